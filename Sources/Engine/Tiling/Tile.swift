/// One tile of a `TileGrid`: the part of the image it is responsible for (`interior`) and the
/// part it is rendered with (`window`: the interior grown by the grid's halo on every side,
/// clamped to the image).
public struct Tile: Sendable, Hashable, CustomStringConvertible {
    public let position: TilePosition
    /// The pixels this tile owns; the interiors of a grid cover the image exactly once.
    public let interior: PixelRect
    /// The pixels this tile is rendered and delivered with; neighbouring windows overlap.
    public let window: PixelRect

    public var key: String { position.key }

    /// Where the interior lies inside the window, in window coordinates.
    public var interiorInWindow: PixelRect { interior.relative(to: window) }

    public var description: String { "\(key): interior \(interior), window \(window)" }
}
