import Engine
import Foundation
public import Protocol

/// The coordinator's weights, fetched chunk by chunk into `destination` by a worker that has
/// none: sha256-verified before they are used, and resumable — a worker cut off or restarted
/// mid-way goes on from the bytes it has (`<destination>.<sha>.partial`). Once complete the file
/// is renamed into place, so a node downloads the weights once.
public final class WeightsDownload {
    public let offer: WeightsOffer
    public let destination: String
    /// Bytes asked for at a time: small enough to keep heartbeats flowing between chunks.
    public static let chunkBytes = 4 << 20

    private let handle: FileHandle
    private let hasher = StreamingSHA256()
    public private(set) var received: Int64

    public var partialPath: String { Self.partialPath(destination: destination, offer: offer) }

    static func partialPath(destination: String, offer: WeightsOffer) -> String {
        destination + "." + offer.sha256.hex.prefix(16) + ".partial"
    }

    /// Opens (or resumes) the partial file; what it already holds is hashed again, since only
    /// the whole file's digest is checked.
    public init(offer: WeightsOffer, destination: String) throws {
        self.offer = offer
        self.destination = destination
        let partial = Self.partialPath(destination: destination, offer: offer)
        try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: partial) {
            guard FileManager.default.createFile(atPath: partial, contents: nil) else {
                throw EngineError(.io, "cannot create \(partial) for the weights")
            }
        }
        guard let handle = FileHandle(forUpdatingAtPath: partial) else { throw EngineError(.io, "cannot open \(partial) for the weights") }
        self.handle = handle
        var have: Int64 = 0
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(chunk)
            have += Int64(chunk.count)
        }
        if have > offer.bytes {
            // Not a prefix of what is offered: start again.
            try handle.truncate(atOffset: 0)
            have = 0
            hasher.reset()
        }
        received = have
    }

    deinit { try? handle.close() }

    public var isComplete: Bool { received == offer.bytes }

    /// The next chunk to ask for.
    public var nextRequest: BlobRequest {
        BlobRequest(sha256: offer.sha256, offset: received, length: Int(min(Int64(Self.chunkBytes), offer.bytes - received)))
    }

    /// Appends a chunk that starts where the file ends (a stray or repeated one is ignored;
    /// returns whether it was used).
    @discardableResult
    public func append(_ reply: BlobReply) throws -> Bool {
        guard reply.sha256 == offer.sha256, reply.found, reply.offset == received, !reply.bytes.isEmpty,
              Int64(reply.bytes.count) <= offer.bytes - received else { return false }
        try handle.seekToEnd()
        try handle.write(contentsOf: reply.bytes)
        hasher.update(reply.bytes)
        received += Int64(reply.bytes.count)
        return true
    }

    /// Checks the digest and moves the file into place; a mismatch deletes the partial file so
    /// that the next try starts from nothing.
    public func finish() throws {
        try handle.synchronize()
        let digest = hasher.finalizeHex()
        guard digest == offer.sha256.hex else {
            try? FileManager.default.removeItem(atPath: partialPath)
            throw EngineError(.weightsCorrupt, "the weights from the coordinator hash to \(digest), not the \(offer.sha256.hex) it offered; they will be fetched again")
        }
        if rename(partialPath, destination) != 0 {
            throw EngineError(.io, "cannot move the weights into \(destination): errno \(errno)")
        }
    }
}
