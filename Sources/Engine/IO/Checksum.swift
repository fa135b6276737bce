internal import Crypto
public import Foundation

/// SHA-256 over bytes in memory, as raw bytes or lowercase hex.
public enum Checksum {
    static func sha256(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        sha256(bytes[...]).hexString
    }
}

/// SHA-256 over bytes that arrive in pieces (a file read in chunks, a download).
public final class StreamingSHA256 {
    private var hasher = SHA256()

    public init() {}

    /// Starts over, as if nothing had been hashed.
    public func reset() { hasher = SHA256() }

    public func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits; the hasher is not used again.
    public func finalizeHex() -> String { Array(hasher.finalize()).hexString }

    /// The digest of a whole file, read 4 MiB at a time (an 80 MB weights file never sits in memory twice).
    public static func hex(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EngineError(.io, "cannot open \(path) to hash it")
        }
        defer { try? handle.close() }
        let stream = StreamingSHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { stream.update(chunk) }
        return stream.finalizeHex()
    }
}
