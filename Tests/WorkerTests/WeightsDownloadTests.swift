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
        // 10 MB (more than two chunks) of a multiplicative-hash sequence: no two chunks alike.
        let words = (0..<2_500_000).map { UInt32(truncatingIfNeeded: $0 &* 2_654_435_761) }
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
