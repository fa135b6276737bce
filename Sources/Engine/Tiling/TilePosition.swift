/// Where a tile sits in its grid: zero-based row and column, ordered row by row.
///
/// Its `key` ("tile-r3-c5" for row 3, column 5) is the stable name a tile goes by in task ids,
/// file names and records; `init(key:)` reads it back and accepts only that exact spelling,
/// so one tile never has two names.
public struct TilePosition: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let row: Int
    public let column: Int

    public init(row: Int, column: Int) {
        self.row = row
        self.column = column
    }

    /// Parses a key such as "tile-r3-c5". Throws `.invalidArgument` for anything else,
    /// including leading zeros ("tile-r03-c5") and signs.
    public init(key: String) throws(EngineError) {
        let malformed = EngineError(
            .invalidArgument,
            "tile key '\(key)' is not of the form tile-r<row>-c<column> (e.g. tile-r3-c5, counting from 0)")
        guard key.hasPrefix("tile-r") else { throw malformed }
        let parts = key.dropFirst("tile-r".count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix("c"),
              let row = Self.number(parts[0]), let column = Self.number(parts[1].dropFirst()) else {
            throw malformed
        }
        self.init(row: row, column: column)
    }

    public var key: String { "tile-r\(row)-c\(column)" }
    public var description: String { key }

    public static func < (a: TilePosition, b: TilePosition) -> Bool {
        (a.row, a.column) < (b.row, b.column)
    }

    /// Encoded as its key, so JSON reads `"tile-r3-c5"`.
    public init(from decoder: any Decoder) throws {
        let key = try decoder.singleValueContainer().decode(String.self)
        try self.init(key: key)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(key)
    }

    /// A canonical decimal: ASCII digits only, no leading zero unless it is "0", at most 9 digits.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              text == "0" || !text.hasPrefix("0") else { return nil }
        return Int(text)
    }
}
