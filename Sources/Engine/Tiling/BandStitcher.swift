/// Stitches tile windows (interior + halo) into one image, blending their overlaps with
/// `TileBlend` ramps, and hands finished rows to a sink in order, top to bottom, as soon as
/// every tile that covers them has been blended. It never holds the whole image.
///
/// Order and determinism. Tiles may be added in any order. They are blended in row-major
/// order (tile-r0-c0, tile-r0-c1, …): a tile that arrives before its predecessors waits in
/// `pendingTiles` as the window it came as. Every pixel's weighted sum is therefore added up
/// in the same order whatever the arrival order, so the output is bit-for-bit reproducible.
/// A coordinator that keeps tiles on disk can bound pending memory to nothing by adding them
/// in row-major order.
///
/// Memory bound. Besides the pending windows, the stitcher holds one band of
/// `bandRows × width` pixels (four `Float`s each: weighted R, G, B and the weight sum) plus one
/// output row. `bandRows` is the tallest tile window, at most `tileSize + 2 × halo` rows:
/// about two tile-rows when the halo is at most half a tile. Why it suffices: a row above the
/// first window row of tile-row r is covered only by earlier tile-rows, so by the time
/// tile-row r is blended all those rows have been written, and tile-row r's window fits in
/// the `bandRows` rows from there. `heldRows` counts the rows that have blended data and are
/// not yet written; `peakHeldRows` is its maximum, never more than `bandRows`.
///
/// Failure. An error from the sink is rethrown and leaves the stitcher failed: every later
/// call throws the same error. Bad tiles (wrong size, outside the grid, delivered twice,
/// non-finite samples) are refused before anything is kept and leave it usable.
public final class BandStitcher<Sink: ImageRowSink> {
    public let grid: TileGrid
    public let blend: TileBlend
    public internal(set) var sink: Sink
    /// Rows in the band buffer: the tallest tile window.
    public let bandRows: Int
    /// The largest band the stitcher accepts, in pixels (1.6 GB of floats).
    public static var maxBandPixels: Int { 100_000_000 }

    public internal(set) var rowsWritten = 0
    public internal(set) var peakHeldRows = 0

    let columnWeights: [[Float]]
    let rowWeights: [[Float]]
    /// `bandRows` rows of `width × 4` floats; image row y lives in slot `y % bandRows`.
    var band: [Float]
    var outputRow: [Float]
    private var delivered: [Bool]
    private var pending: [TilePosition: RGBImage] = [:]
    /// Row-major index of the next tile to blend; all before it are blended.
    var nextToBlend = 0
    /// One past the lowest window row blended so far.
    var blendedThrough = 0
    /// The last tile-row whose window starts at or above `rowsWritten`.
    var lastCoveringTileRow = 0
    var failure: EngineError?

    public init(grid: TileGrid, blend: TileBlend = .raisedCosine, sink: Sink) throws(EngineError) {
        let bandRows = (0..<grid.rows).map { grid.rowSpan($0).window.count }.max() ?? 1
        guard bandRows * grid.width <= Self.maxBandPixels else {
            throw EngineError(
                .invalidArgument,
                "stitching a \(grid.width)-pixel-wide image with tile \(grid.tileSize) and halo \(grid.halo) needs a band of "
                    + "\(bandRows) rows (\(bandRows * grid.width / 1_000_000) MP), more than \(Self.maxBandPixels / 1_000_000) MP; "
                    + "use a smaller --tile or --halo")
        }
        self.grid = grid
        self.blend = blend
        self.sink = sink
        self.bandRows = bandRows
        (columnWeights, rowWeights) = grid.blendWeights(blend)
        band = [Float](repeating: 0, count: bandRows * grid.width * 4)
        outputRow = [Float](repeating: 0, count: grid.width * 3)
        delivered = [Bool](repeating: false, count: grid.count)
    }

    /// Rows with blended data that are not yet written.
    public var heldRows: Int { max(0, blendedThrough - rowsWritten) }
    /// Tiles received but not yet blended, waiting for an earlier tile (row-major order).
    public var pendingTiles: [TilePosition] { pending.keys.sorted() }
    /// Tiles not received yet.
    public var missingTiles: [TilePosition] { grid.positions.filter { !delivered[index($0)] } }
    /// Whether every row has been written.
    public var isComplete: Bool { rowsWritten == grid.height }

    /// Adds one tile: `window` must be the tile's whole window (`grid.tile(at:).window` size),
    /// interior and halo. Writes every row this completes before returning.
    public func add(_ window: RGBImage, at position: TilePosition) throws(EngineError) {
        if let failure { throw failure }
        let tile = try grid.tile(at: position)
        guard !delivered[index(position)] else {
            throw EngineError(
                .invalidArgument,
                "tile \(position.key) was already stitched; each tile is added once (a stale result should have been dropped)")
        }
        guard window.width == tile.window.width, window.height == tile.window.height else {
            throw EngineError(
                .invalidArgument,
                "tile \(position.key) arrived as \(window.width)×\(window.height) pixels; its window is "
                    + "\(tile.window.width)×\(tile.window.height) (interior \(tile.interior) grown by halo \(grid.halo))")
        }
        guard window.pixels.allSatisfy(\.isFinite) else {
            throw EngineError(
                .invalidArgument,
                "tile \(position.key) has NaN or infinite samples (a diverged render?); re-render it before stitching")
        }
        delivered[index(position)] = true
        pending[position] = window
        try advance()
    }

    /// Checks that the image is complete: every tile added and every row written. Finishing
    /// the sink (e.g. `PNGRowWriter.finish()`) is the caller's.
    public func finish() throws(EngineError) {
        if let failure { throw failure }
        guard isComplete else {
            let missing = missingTiles
            let named = missing.prefix(8).map(\.key).joined(separator: ", ") + (missing.count > 8 ? ", …" : "")
            throw EngineError(
                .invalidArgument,
                "stitching is incomplete: \(rowsWritten) of \(grid.height) rows written, \(missing.count) of "
                    + "\(grid.count) tiles missing (\(named)); add them before finishing")
        }
    }

    private func index(_ position: TilePosition) -> Int { position.row * grid.columns + position.column }

    /// Writes what is complete, blends the next tile if it is here, and repeats.
    private func advance() throws(EngineError) {
        while true {
            try writeCompleteRows()
            guard nextToBlend < grid.count else { return }
            let position = TilePosition(row: nextToBlend / grid.columns, column: nextToBlend % grid.columns)
            guard let window = pending.removeValue(forKey: position) else { return }
            try blendIn(window, tile: grid.tile(at: position))
            nextToBlend += 1
        }
    }
}
