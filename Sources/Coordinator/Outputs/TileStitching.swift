public import Engine
import Foundation

/// Stitches a tiled job's finished tile windows into its output PNG, row band by row band.
///
/// Tiles are read from disk one at a time in row-major order, so besides the stitcher's band
/// (the tallest window's rows × the output width) only one decoded window is in memory: a
/// 16K-wide output needs about 40 MB, whatever its height. An output larger than a page can
/// show gets `preview.png` beside it (longest side 1600), built from the same rows.
public enum TileStitching {
    /// The downscaled copy of a large output, in the job's folder.
    public static let previewName = "preview.png"
    public struct Summary: Sendable, Codable, Equatable {
        public var width: Int
        public var height: Int
        public var bitDepth: Int
        public var tiles: Int
        /// Rows of blended data held at most, and the band's capacity in rows.
        public var peakHeldRows: Int
        public var bandRows: Int
        public var seconds: Double
    }

    /// - Parameter tiles: each tile's window file (16-bit PNG), by key (`tile-r0-c0`).
    public static func stitch(_ plan: StitchPlan, tiles: [String: String], to path: String) throws -> Summary {
        let started = ContinuousClock.now
        if let bands = plan.bands { return try concatenate(plan, bands: bands, files: tiles, to: path, started: started) }
        let grid = try plan.grid()
        let writer = try PNGRowWriter(path: path, width: plan.width, height: plan.height, bitDepth: plan.bitDepth)
        let preview = PreviewRowSink(sourceWidth: plan.width, sourceHeight: plan.height)
        let stitcher = try BandStitcher(grid: grid, sink: RowTee(writer, preview))
        for tile in grid.tiles {
            guard let file = tiles[tile.position.key] else {
                throw EngineError(.invalidArgument, "tile \(tile.position.key) has no stored result to stitch")
            }
            try stitcher.add(try ImageFile.read(path: file), at: tile.position)
        }
        try stitcher.finish()
        try writer.finish()
        try writePreview(preview, beside: path)
        return Summary(width: plan.width, height: plan.height, bitDepth: plan.bitDepth, tiles: grid.count,
                       peakHeldRows: stitcher.peakHeldRows, bandRows: stitcher.bandRows,
                       seconds: (ContinuousClock.now - started).seconds)
    }

    /// Exact mode: the shards' bands, top to bottom, one decoded band at a time.
    static func concatenate(_ plan: StitchPlan, bands: [String], files: [String: String], to path: String,
                            started: ContinuousClock.Instant) throws -> Summary {
        let writer = try PNGRowWriter(path: path, width: plan.width, height: plan.height, bitDepth: plan.bitDepth)
        var sink = RowTee(writer, PreviewRowSink(sourceWidth: plan.width, sourceHeight: plan.height))
        var tallest = 0
        for key in bands {
            guard let file = files[key] else { throw EngineError(.invalidArgument, "\(key) has no stored result to stitch") }
            let band = try ImageFile.read(path: file)
            guard band.width == plan.width, writer.rowsWritten + band.height <= plan.height else {
                throw EngineError(.invalidArgument, "\(key)'s band is \(band.width)×\(band.height); it does not fit the \(plan.width)×\(plan.height) output at row \(writer.rowsWritten)")
            }
            tallest = max(tallest, band.height)
            try band.pixels.withUnsafeBufferPointer { pixels throws(EngineError) in
                for y in 0..<band.height {
                    try sink.write(row: UnsafeBufferPointer(rebasing: pixels[(y * plan.width * 3)..<((y + 1) * plan.width * 3)]))
                }
            }
        }
        try writer.finish()
        if plan.preview != false { try writePreview(sink.second, beside: path) }
        return Summary(width: plan.width, height: plan.height, bitDepth: plan.bitDepth, tiles: bands.count,
                       peakHeldRows: tallest, bandRows: tallest, seconds: (ContinuousClock.now - started).seconds)
    }

    /// Writes `preview.png` beside the output when the output is larger than the preview
    /// (a small output is its own preview; a stale preview of an earlier, larger stitch goes).
    static func writePreview(_ preview: PreviewRowSink, beside path: String) throws {
        let previewPath = (path as NSString).deletingLastPathComponent + "/" + previewName
        guard preview.isComplete, preview.preview.width < preview.sourceWidth || preview.preview.height < preview.sourceHeight else {
            try? FileManager.default.removeItem(atPath: previewPath)
            return
        }
        try ImageFile.writePNG(preview.preview, path: previewPath)
    }
}
