import Foundation
import Testing
import TestSupport
import Engine
import Farm
import Protocol

/// Live previews on a real farm: workers attach them to their progress, the coordinator keeps
/// the latest of each running attempt in memory, and its HTTP side serves them.
@Suite(.serialized)
struct FarmPreviewTests {
    struct Entry: Decodable {
        var key: String
        var attemptID: Int64
        var iteration: Int
        var iterations: Int?
        var mimeType: String
        var width: Int
        var height: Int
        var url: String
    }

    static func previews(_ base: String, job: String) throws -> [Entry] {
        let (status, body) = try FarmHTTPTests.get(base + "/api/v1/jobs/\(job)/previews")
        guard status == 200 else { throw TestFailure("previews answered \(status): \(String(decoding: body, as: UTF8.self))") }
        return try JSONDecoder().decode([Entry].self, from: body)
    }

    /// Polls until a running task whose key matches has a preview (no fixed sleeps: the event).
    static func waitForPreview(_ base: String, job: String, timeout: Double = 180, matching: (String) -> Bool) throws -> Entry {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let entry = try previews(base, job: job).first(where: { matching($0.key) }) { return entry }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("no live preview for job \(job) within \(timeout) s")
    }

    /// The image behind an entry: what its type says, the size its entry says, 256 px at most.
    static func checkImage(_ base: String, _ entry: Entry) throws {
        let (status, body) = try FarmHTTPTests.get(base + entry.url.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!)
        #expect(status == 200)
        let header = try ImageHeader.read([UInt8](body), name: "preview", maxPixels: 1 << 20)
        #expect(header.format == .jpeg && entry.mimeType == "image/jpeg")
        #expect(header.width == entry.width && header.height == entry.height && max(header.width, header.height) <= 256)
    }

    @Test func aRunningSweepPointAndARunningTileShowTheirLivePreviews() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        try farm.startWorkers(2)

        // Long enough that the points are still running when looked at; cancelled once seen.
        let sweep = try farm.submitSweep(gamma: "0:1:0.5", iterations: 400)
        let point = try Self.waitForPreview(base, job: sweep) { $0.hasPrefix("gamma=") }
        #expect(point.iterations == 400 && point.iteration >= 0 && point.iteration <= 400)
        #expect(point.width == 48 && point.height == 36, "a 48-pixel render is shown whole, never enlarged")
        try Self.checkImage(base, point)
        #expect(try FarmHTTPTests.get(base + "/api/v1/jobs/\(sweep)/previews/no-such-task").status == 404)
        #expect(try farm.run(["cancel", sweep, "--coordinator", farm.endpoint]).status == 0)

        let (submitted, tiledOutput) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--content", farm.samples.content,
                                                     "--style", farm.samples.style1, "--size", "128", "--tile", "64", "--halo", "16",
                                                     "--coarse-size", "64", "--coarse-iterations", "40", "--iterations", "400"])
        #expect(submitted == 0, "\(tiledOutput)")
        let tiled = tiledOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let coarse = try Self.waitForPreview(base, job: tiled) { $0 == "coarse" }
        try Self.checkImage(base, coarse)
        let tile = try Self.waitForPreview(base, job: tiled, timeout: 300) { $0.hasPrefix("tile-") }
        #expect(tile.width == 80 && tile.height == 80, "a corner tile of a 2×2 grid: 64 pixels and 16 of halo inside the image")
        try Self.checkImage(base, tile)

        // Cancelled, the sweep's previews are gone (memory holds only running attempts).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try !Self.previews(base, job: sweep).isEmpty { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try Self.previews(base, job: sweep).isEmpty)
        #expect(try farm.run(["cancel", tiled, "--coordinator", farm.endpoint]).status == 0)
    }

    @Test func theShardsOfAnExactJobShowTheirOwnRows() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        try farm.startWorkers(2)
        let (submitted, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--tile", "64", "--mode", "exact",
                                                "--shards", "2", "--content", farm.samples.content, "--style", farm.samples.style1,
                                                "--init", "content", "--optimizer", "adam", "--lr", "1", "--iterations", "400",
                                                "--style-layers", "block1_relu1,block2_relu1", "--size", "128"])
        #expect(submitted == 0, "\(output)")
        let job = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let shard = try Self.waitForPreview(base, job: job, timeout: 300) { $0.hasPrefix("shard-") }
        #expect(shard.width == 128 && shard.height < 96, "a band of whole rows of the 128×96 output")
        #expect(shard.iterations == 400)
        try Self.checkImage(base, shard)
        #expect(try farm.run(["cancel", job, "--coordinator", farm.endpoint]).status == 0)
    }

    @Test func aFinishedPointsImageIsServedDownscaled() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        try farm.startWorkers(1)
        let job = try farm.submitSweep(gamma: "0:1:1", iterations: 2)
        #expect(try farm.wait(job).status == 0)
        let (status, body) = try FarmHTTPTests.get(base + "/api/v1/jobs/\(job)/results/gamma=0/preview?size=32")
        #expect(status == 200)
        let header = try ImageHeader.read([UInt8](body), name: "result preview", maxPixels: 1 << 20)
        #expect(header.format == .jpeg && header.width == 32 && header.height == 24)
        #expect(try FarmHTTPTests.get(base + "/api/v1/jobs/\(job)/results/gamma=0/preview?size=1").status == 400)
        #expect(try FarmHTTPTests.get(base + "/api/v1/jobs/\(job)/results/nothing/preview").status == 404)
        #expect(try Self.previews(base, job: job).isEmpty, "nothing runs: nothing live")
    }

    /// A preview that breaks the rules is refused with a clear error, the worker's connection
    /// stays, and one about another worker's attempt is fenced like its lines.
    @Test func aBadPreviewIsRefusedAndTheConnectionKept() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let peer = try RawPeer(farm.endpoint)
        let welcome = try peer.join(as: "raw")
        #expect(welcome.previews == nil, "a hello without the capability gets no offer")
        let other = try RawPeer(farm.endpoint)
        var hello = RawPeer.hello("modern")
        if case .hello(var body) = hello { body.capabilities.append(PreviewOffer.capability); hello = .hello(body) }
        try other.send(hello)
        guard case .welcome(let modern)? = try other.receive(until: { if case .welcome = $0 { true } else { false } }) else {
            throw TestFailure("no welcome")
        }
        #expect(modern.previews == PreviewOffer(), "a worker that can send previews is told how")

        var huge: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        huge += [0, 0, 0x10, 0, 0, 0, 0x10, 0, 8, 2, 0, 0, 0]   // 4096×4096
        let header = Data(#"{"attemptID":1,"lines":[{"content":0,"elapsed":0,"iteration":0,"styles":[],"total":0,"tv":0}],"taskID":"1"}"#.utf8)
        try peer.socket.send(WireMessage(kind: .progress, header: header, payloads: [Data(huge)]))
        guard case .error(let refusal)? = try peer.receive(until: { if case .error = $0 { true } else { false } }) else {
            throw TestFailure("no error for a 4096×4096 preview")
        }
        #expect(refusal.code == ProtocolError.Code.tooLarge.rawValue && refusal.message.contains("4096×4096"), "\(refusal)")

        // Still connected and still known: a well-formed preview about an attempt it does not
        // hold is answered as its lines would be.
        let small = try PreviewImage(validating: Data(huge.prefix(16) + [0, 0, 0, 64, 0, 0, 0, 64, 8, 2, 0, 0, 0]))
        try peer.send(.progress(TaskProgress(taskID: "1", attemptID: 1, lines: [LossLine(iteration: 0, total: 0, content: 0, styles: [], tv: 0, elapsed: 0)],
                                             preview: small)))
        #expect(try peer.errorCode() == FarmErrorCode.notYourAttempt.rawValue)
    }
}
