/// A rectangle of whole pixels: columns `x..<maxX`, rows `y..<maxY`.
public struct PixelRect: Sendable, Hashable, Codable, CustomStringConvertible {
    public let x: Int
    public let y: Int
    public let width: Int
    public let height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// One past the last column.
    public var maxX: Int { x + width }
    /// One past the last row.
    public var maxY: Int { y + height }
    public var columns: Range<Int> { x..<maxX }
    public var rows: Range<Int> { y..<maxY }
    public var pixelCount: Int { width * height }

    /// Whether every pixel of `other` lies inside this rectangle.
    public func contains(_ other: PixelRect) -> Bool {
        other.x >= x && other.y >= y && other.maxX <= maxX && other.maxY <= maxY
    }

    /// This rectangle moved by (-`dx`, -`dy`): its place inside a rectangle that starts at (`dx`, `dy`).
    public func relative(to origin: PixelRect) -> PixelRect {
        PixelRect(x: x - origin.x, y: y - origin.y, width: width, height: height)
    }

    /// "64×48 at (128, 0)".
    public var description: String { "\(width)×\(height) at (\(x), \(y))" }
}
