/// The only way an image is named on the wire: `blob:<sha256>`, 64 lowercase hex digits.
/// There is no way to spell a path with it, so a job cannot make a worker (or the
/// coordinator) read a file of its own: a node reads only its blob cache and its weights.
public struct BlobReference: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let scheme = "blob:"

    /// The SHA-256 of the blob's bytes, lowercase hex.
    public let sha256: String

    public init?(sha256: String) {
        guard Self.isDigest(sha256) else { return nil }
        self.sha256 = sha256
    }

    /// Parses `blob:<64 lowercase hex>`; nil for anything else (paths, `blob:../x`, "").
    public init?(_ text: String) {
        guard text.hasPrefix(Self.scheme) else { return nil }
        self.init(sha256: String(text.dropFirst(Self.scheme.count)))
    }

    public var description: String { Self.scheme + sha256 }

    public static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let reference = BlobReference(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text.prefix(80))' is not a blob reference (blob:<sha256>)"))
        }
        self = reference
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
