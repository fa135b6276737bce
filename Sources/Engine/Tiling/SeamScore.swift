/// How visible the tile borders of an image are: about 1 when they are not, more when colour
/// steps or texture shifts line up along them (issue 5, item 5).
///
/// Exact reading of the definition, for a border between two neighbouring tiles:
/// - A *line step* at a line position p (a column x = p for a vertical border, a row for a
///   horizontal one) over a stretch along the border: the stretch is cut into 16-pixel
///   segments (the last may be shorter); in each segment, the mean of each channel over the 4
///   lines before p (p-4…p-1) and over the 4 lines from p (p…p+3); the segment's step is the
///   absolute difference of the two means, per channel, averaged over R, G and B (0…255
///   scale); the line step is the mean over the segments.
/// - The border's `step` is the line step at the border itself, along the whole shared edge.
/// - Its `reference` is the mean line step, along the same stretch, at the four positions
///   inside the two neighbouring tiles a quarter and three eighths of a tile away from the
///   border (round(T/4) and round(3T/8) pixels, T the grid's tile size), each on both sides.
///   A position counts only if its 8 lines lie inside its tile (a narrow last tile may offer
///   none on its side); a border with no usable reference, or whose tiles are under 4 pixels
///   across it, is skipped and counted in `skippedBorders`.
/// - The border's `ratio` is (step + ε) / (reference + ε) with ε = 0.05 levels, which leaves
///   any visible figure unchanged and makes a flat region (0 / 0) score 1.
/// - The `score` is the mean ratio over all scored borders, vertical and horizontal.
public struct SeamScore: Sendable, Codable, Equatable {
    public enum Orientation: String, Sendable, Codable, Equatable {
        /// Between horizontally adjacent tiles: the border is a column.
        case vertical
        /// Between vertically adjacent tiles: the border is a row.
        case horizontal
    }

    public struct Border: Sendable, Codable, Equatable {
        public let orientation: Orientation
        /// The two tiles, left/top first.
        public let tiles: [TilePosition]
        /// The first column (vertical) or row (horizontal) after the border.
        public let position: Int
        /// The pixels along the border that were measured (rows for vertical, columns for horizontal).
        public let start: Int
        public let length: Int
        public let step: Double
        public let reference: Double
        public let ratio: Double
    }

    public let tileSize: Int
    public let width: Int
    public let height: Int
    /// The mean of the borders' ratios.
    public let score: Double
    public let borders: [Border]
    public let skippedBorders: Int

    public static let segmentLength = 16
    public static let linesPerSide = 4
    public static let epsilon = 0.05
    /// Tiles smaller than this leave no room for the reference lines.
    public static let minimumTileSize = 16

    /// Scores `image` cut into square tiles of `tileSize` from the top-left corner, the last
    /// row and column taking what is left (`TileGrid.Layout.fixed`).
    public static func measure(_ image: RGBImage, tileSize: Int) throws(EngineError) -> SeamScore {
        try validate(tileSize: tileSize)
        guard tileSize < image.width || tileSize < image.height else {
            throw EngineError(
                .invalidArgument,
                "tile \(tileSize) is not smaller than the \(image.width)×\(image.height) image, so it has no tile borders "
                    + "to score; give the --tile the image was rendered with")
        }
        return try measure(image, grid: TileGrid(width: image.width, height: image.height, tileSize: tileSize))
    }

    /// Scores `image` along the borders of `grid` (any layout); distances use `grid.tileSize`.
    public static func measure(_ image: RGBImage, grid: TileGrid) throws(EngineError) -> SeamScore {
        try validate(tileSize: grid.tileSize)
        guard grid.width == image.width, grid.height == image.height else {
            throw EngineError(
                .invalidArgument,
                "the tile grid is for a \(grid.width)×\(grid.height) image but the image is \(image.width)×\(image.height)")
        }
        guard grid.count > 1 else {
            throw EngineError(.invalidArgument, "a grid of one tile has no tile borders to score; use a smaller tile")
        }
        let measurer = SeamMeasurer(image: image, grid: grid)
        var borders: [Border] = []
        var skipped = 0
        for orientation in [Orientation.vertical, .horizontal] {
            for (tiles, across) in measurer.borderPairs(orientation) {
                if let border = measurer.border(orientation, tiles: tiles, across: across) {
                    borders.append(border)
                } else {
                    skipped += 1
                }
            }
        }
        guard !borders.isEmpty else {
            throw EngineError(
                .invalidArgument,
                "none of the \(skipped) tile borders of this \(image.width)×\(image.height) image can be scored with tile "
                    + "\(grid.tileSize) (the tiles next to them are too narrow); use a smaller --tile")
        }
        let score = borders.map(\.ratio).reduce(0, +) / Double(borders.count)
        return SeamScore(tileSize: grid.tileSize, width: image.width, height: image.height,
                         score: score, borders: borders, skippedBorders: skipped)
    }

    /// Throws unless `tileSize` leaves room for the reference lines.
    public static func validate(tileSize: Int) throws(EngineError) {
        guard tileSize >= minimumTileSize else {
            throw EngineError(
                .invalidArgument,
                "tile \(tileSize) is too small to score seams: the score compares 4-line bands a quarter and three "
                    + "eighths of a tile from each border, which needs tiles of at least \(minimumTileSize) pixels")
        }
    }
}
