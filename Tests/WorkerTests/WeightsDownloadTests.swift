import Foundation
import Testing
import TestSupport
import Engine
import Protocol
@testable import Worker

/// The coordinator's weights arrive in chunks: a download cut off resumes from the bytes on
/// disk, and nothing but the offered bytes is ever moved into place.
struct WeightsDownloadTests {
    /// 10 MB that are not all zeros, with their real digest.
    static func blob() -> (bytes: Data, offer: WeightsOffer) {
        var generator = SplitMix(seed: 7)
        let words = (0..<1_250_000).map { _ in generator.next() }   // 10 MB: more than two chunks
        let bytes = words.withUnsafeBytes { Data($0) }
        let digest = SHA256Digest(hex: Checksum.sha256Hex([UInt8](bytes)))!
        return (bytes, WeightsOffer(sha256: digest, bytes: Int64(bytes.count)))
    }

    /// What a coordinator answers to `request`.
    static func serve(_ request: BlobRequest, from bytes: Data) -> BlobReply {
        let start = Int(request.offset ?? 0), end = min(bytes.count, start + (request.length ?? bytes.count))
        return BlobReply(sha256: request.sha256, bytes: bytes.subdata(in: start..<end), offset: Int64(start), totalBytes: Int64(bytes.count))
    }

    @Test func aDownloadCutOffResumesFromTheBytesOnDiskAndEndsWithTheOfferedFile() throws {
        let dir = try TemporaryDirectory()
        let (bytes, offer) = Self.blob()
        let destination = dir.path("weights/vgg.sfw")
        let first = try WeightsDownload(offer: offer, destination: destination)
        // Two chunks, then the worker is killed.
        for _ in 0..<2 { #expect(try first.append(Self.serve(first.nextRequest, from: bytes))) }
        #expect(first.received == Int64(2 * WeightsDownload.chunkBytes))
        let resumed = try WeightsDownload(offer: offer, destination: destination)
        #expect(resumed.received == Int64(2 * WeightsDownload.chunkBytes))
        #expect(resumed.nextRequest.offset == Int64(2 * WeightsDownload.chunkBytes))
        // A repeated or stray chunk is ignored rather than appended twice.
        #expect(try !resumed.append(BlobReply(sha256: offer.sha256, bytes: bytes.prefix(10), offset: 0, totalBytes: offer.bytes)))
        while !resumed.isComplete { #expect(try resumed.append(Self.serve(resumed.nextRequest, from: bytes))) }
        try resumed.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: resumed.partialPath))
    }

    @Test func bytesThatDoNotHashToTheOfferAreDeletedNotUsed() throws {
        let dir = try TemporaryDirectory()
        let (bytes, offer) = Self.blob()
        var damaged = bytes
        damaged[5_000_000] ^= 0xff
        let destination = dir.path("weights/vgg.sfw")
        let download = try WeightsDownload(offer: offer, destination: destination)
        while !download.isComplete { try download.append(Self.serve(download.nextRequest, from: damaged)) }
        #expect(throws: EngineError.self) { try download.finish() }
        #expect(!FileManager.default.fileExists(atPath: destination))
        #expect(!FileManager.default.fileExists(atPath: download.partialPath))
    }

    @Test func aPartialFileLongerThanTheOfferStartsOver() throws {
        let dir = try TemporaryDirectory()
        let (bytes, offer) = Self.blob()
        let destination = dir.path("weights/vgg.sfw")
        try FileManager.default.createDirectory(atPath: dir.path("weights"), withIntermediateDirectories: true)
        try (bytes + Data([1, 2, 3])).write(to: URL(fileURLWithPath: WeightsDownload.partialPath(destination: destination, offer: offer)))
        #expect(try WeightsDownload(offer: offer, destination: destination).received == 0)
    }
}

/// Deterministic bytes without Foundation's random source.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
