/// A `width`×`height` image cut into a grid of tiles of (at most) `tileSize` pixels a side.
///
/// Each tile has an interior (the interiors cover the image exactly once) and a window: the
/// interior grown by `halo` pixels on every side and clamped to the image, which is what a
/// worker renders so that every interior pixel sees context on all sides.
///
/// Where the borders fall is the `layout`; with `alignment` A every border between two tiles
/// is a multiple of A (16 matches VGG19's four 2×2 poolings, so a tile's feature maps line up
/// with the whole image's; windows then start on multiples of A too when `halo` is one).
/// `tileSize` must be a multiple of `alignment`.
///
/// Tiles are addressed by `TilePosition` (row, column, from 0) or by its key "tile-r3-c5".
public struct TileGrid: Sendable, Hashable {
    public enum Layout: String, Sendable, Hashable, CaseIterable, Codable {
        /// Borders at multiples of `tileSize`: every tile is `tileSize` square except the last
        /// column and row, which take what is left (1…`tileSize` pixels). This is what
        /// `stylefarm inspect seams --tile T` measures.
        case fixed
        /// The same number of tiles as `fixed` (⌈width / tileSize⌉ columns), with the remainder
        /// spread over all of them: border k is the first multiple of `alignment` at or after
        /// k·width/columns, so every tile is within `alignment` pixels of width/columns wide and
        /// none is wider than `tileSize`. No sliver of a last tile.
        case balanced
    }

    /// libpng's limit for a side (and a sane one for any image StyleFarm renders).
    public static let maxSide = 1_000_000
    /// More tiles than this is a mistake (a tile size of a few pixels), not a render.
    public static let maxTiles = 1_000_000

    public let width: Int
    public let height: Int
    public let tileSize: Int
    public let halo: Int
    public let alignment: Int
    public let layout: Layout
    /// The left edge of every column, then `width`: `columns + 1` increasing values.
    public let columnEdges: [Int]
    /// The top edge of every row, then `height`: `rows + 1` increasing values.
    public let rowEdges: [Int]

    public init(
        width: Int, height: Int, tileSize: Int, halo: Int = 0, alignment: Int = 1, layout: Layout = .fixed
    ) throws(EngineError) {
        try Self.validate(width: width, height: height, tileSize: tileSize, halo: halo, alignment: alignment)
        self.width = width
        self.height = height
        self.tileSize = tileSize
        self.halo = halo
        self.alignment = alignment
        self.layout = layout
        columnEdges = try Self.edges(length: width, tileSize: tileSize, alignment: alignment, layout: layout)
        rowEdges = try Self.edges(length: height, tileSize: tileSize, alignment: alignment, layout: layout)
        guard columns * rows <= Self.maxTiles else {
            throw EngineError(
                .invalidArgument,
                "a \(width)×\(height) image in tiles of \(tileSize) makes \(columns)×\(rows) tiles, more than "
                    + "\(Self.maxTiles); use a larger --tile")
        }
    }

    public var columns: Int { columnEdges.count - 1 }
    public var rows: Int { rowEdges.count - 1 }
    public var count: Int { columns * rows }

    /// Every tile position, row by row.
    public var positions: [TilePosition] {
        (0..<rows).flatMap { row in (0..<columns).map { TilePosition(row: row, column: $0) } }
    }

    /// Every tile, row by row.
    public var tiles: [Tile] { positions.map(tileUnchecked) }

    public func contains(_ position: TilePosition) -> Bool {
        (0..<rows).contains(position.row) && (0..<columns).contains(position.column)
    }

    public func tile(row: Int, column: Int) throws(EngineError) -> Tile {
        try tile(at: TilePosition(row: row, column: column))
    }

    public func tile(at position: TilePosition) throws(EngineError) -> Tile {
        guard contains(position) else {
            throw EngineError(
                .invalidArgument,
                "tile \(position.key) is outside this grid of \(rows) rows × \(columns) columns "
                    + "(tile-r0-c0 … tile-r\(rows - 1)-c\(columns - 1))")
        }
        return tileUnchecked(position)
    }

    /// The tile named by a key such as "tile-r3-c5".
    public func tile(key: String) throws(EngineError) -> Tile {
        try tile(at: TilePosition(key: key))
    }

    /// The interior columns of grid column `column`, and its window's columns.
    func columnSpan(_ column: Int) -> (interior: Range<Int>, window: Range<Int>) {
        Self.span(edges: columnEdges, index: column, halo: halo, length: width)
    }

    /// The interior rows of grid row `row`, and its window's rows.
    func rowSpan(_ row: Int) -> (interior: Range<Int>, window: Range<Int>) {
        Self.span(edges: rowEdges, index: row, halo: halo, length: height)
    }

    /// For a position already known to be in the grid.
    private func tileUnchecked(_ position: TilePosition) -> Tile {
        let x = columnSpan(position.column), y = rowSpan(position.row)
        return Tile(
            position: position,
            interior: PixelRect(x: x.interior.lowerBound, y: y.interior.lowerBound,
                                width: x.interior.count, height: y.interior.count),
            window: PixelRect(x: x.window.lowerBound, y: y.window.lowerBound,
                              width: x.window.count, height: y.window.count))
    }

    private static func span(edges: [Int], index: Int, halo: Int, length: Int) -> (interior: Range<Int>, window: Range<Int>) {
        let start = edges[index], end = edges[index + 1]
        return (start..<end, max(0, start - halo)..<min(length, end + halo))
    }
}
