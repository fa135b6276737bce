/// A content address: a SHA-256 digest as 64 lowercase hex digits.
///
/// Decoding refuses anything else, so a header naming a blob is checked before any lookup.
public struct SHA256Digest: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public let hex: String

    /// Returns nil unless `hex` is 64 hex digits; upper case is accepted and lowered.
    public init?(hex: String) {
        let lowered = hex.lowercased()
        guard lowered.utf8.count == 64, lowered.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return nil
        }
        self.hex = lowered
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let digest = SHA256Digest(hex: string) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(string.prefix(80))' is not a SHA-256 digest (64 hex digits)")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    public var description: String { hex }

    public static func < (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool { lhs.hex < rhs.hex }
}
