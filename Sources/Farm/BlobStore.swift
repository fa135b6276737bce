public import Foundation
public import Engine

/// Content-addressed files: each blob lives at `<root>/<sha256 hex>`, so a coordinator stores a
/// submitted image once however many tasks use it, and a worker fetches a blob it lacks once.
/// Writes are atomic and verified, so a blob on disk is always whole and matches its name.
public struct BlobStore: Sendable {
    public let root: String

    public init(root: String) throws {
        self.root = root
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.io, "cannot create the blob store '\(root)'", cause: "\(error)")
        }
    }

    public static func isValidName(_ sha256: String) -> Bool {
        sha256.count == 64 && sha256.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    public static func hash(_ bytes: [UInt8]) -> String { Checksum.sha256Hex(bytes) }

    /// The path of a stored blob, or nil if it is not here.
    public func path(of sha256: String) -> String? {
        guard Self.isValidName(sha256) else { return nil }
        let path = root + "/" + sha256
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Stores bytes under their hash; with `expected`, refuses bytes that do not match it.
    @discardableResult
    public func store(_ bytes: [UInt8], expected: String? = nil) throws -> String {
        let sha = Self.hash(bytes)
        if let expected, expected != sha {
            throw EngineError(.io, "blob \(expected) arrived with sha256 \(sha); it was corrupted in transit and is refused")
        }
        try store(bytes, verifiedDigest: sha)
        return sha
    }

    /// Stores bytes whose sha256 the caller has already computed and checked.
    public func store(_ bytes: [UInt8], verifiedDigest sha: String) throws {
        guard Self.isValidName(sha) else { throw EngineError(.invalidArgument, "'\(sha.prefix(80))' is not a sha256") }
        if path(of: sha) == nil {
            try FileBytes.writeAtomically(bytes, to: root + "/" + sha, what: "blob \(sha)")
        }
    }

    /// Stores a file's content and returns its hash.
    public func storeFile(_ path: String, maxBytes: Int) throws -> String {
        try store(try FileBytes.read(path: path, what: "file '\(path)'", maxBytes: maxBytes))
    }

    public func read(_ sha256: String, maxBytes: Int = .max) throws -> [UInt8] {
        guard let path = path(of: sha256) else {
            throw EngineError(.io, "blob \(sha256) is not in the store \(root)")
        }
        let bytes = try FileBytes.read(path: path, what: "blob \(sha256)", maxBytes: maxBytes)
        guard Self.hash(bytes) == sha256 else {
            try? FileManager.default.removeItem(atPath: path)
            throw EngineError(.io, "blob \(sha256) on disk does not match its hash; it was removed, fetch it again")
        }
        return bytes
    }
}
