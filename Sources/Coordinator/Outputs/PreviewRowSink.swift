public import Engine

/// A downscaled copy of an image built from its rows as they stream past, for outputs too large
/// to show in a page as they are (a tiled job's 16K output): each preview pixel is the mean of
/// the block of source pixels it covers (a box filter, right for shrinking). It holds one
/// accumulator row and the preview itself, never the source, so it can ride along with the
/// stitch (`RowTee`) whatever the output's size.
public final class PreviewRowSink: ImageRowSink {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public private(set) var preview: RGBImage
    /// The preview column of each source column.
    private let columnTarget: [Int]
    private var sums: [Float]
    private var counts: [Float]
    private var currentTargetRow = 0
    private var rowsTaken = 0

    /// The default longest side of a job folder's preview: enough for a page, a few MB as PNG.
    public static let defaultLongestSide = 1600

    /// - Precondition-free: sizes below 1 are treated as 1, and a source smaller than
    ///   `longestSide` gives a preview of the source's own size.
    public init(sourceWidth: Int, sourceHeight: Int, longestSide: Int = PreviewRowSink.defaultLongestSide) {
        let width = max(1, sourceWidth), height = max(1, sourceHeight)
        self.sourceWidth = width
        self.sourceHeight = height
        let fitted = max(width, height) <= max(1, longestSide)
            ? (width: width, height: height)
            : Resampler.size(fittingLongestSide: max(1, longestSide), width: width, height: height)
        preview = RGBImage(width: fitted.width, height: fitted.height, fill: 0)
        columnTarget = (0..<width).map { $0 * fitted.width / width }
        sums = [Float](repeating: 0, count: fitted.width * 3)
        counts = [Float](repeating: 0, count: fitted.width)
    }

    public func write(row: UnsafeBufferPointer<Float>) throws(EngineError) {
        guard row.count == sourceWidth * 3, rowsTaken < sourceHeight else {
            throw EngineError(.invalidArgument, "a preview of a \(sourceWidth)×\(sourceHeight) image got row \(rowsTaken + 1) of \(row.count / 3) pixels")
        }
        let target = rowsTaken * preview.height / sourceHeight
        if target != currentTargetRow { emitRow() }
        currentTargetRow = target
        for x in 0..<sourceWidth {
            let t = columnTarget[x]
            sums[t * 3] += row[x * 3].isNaN ? 0 : row[x * 3]
            sums[t * 3 + 1] += row[x * 3 + 1].isNaN ? 0 : row[x * 3 + 1]
            sums[t * 3 + 2] += row[x * 3 + 2].isNaN ? 0 : row[x * 3 + 2]
            counts[t] += 1
        }
        rowsTaken += 1
        if rowsTaken == sourceHeight { emitRow() }
    }

    /// Whether every row of the source has been written.
    public var isComplete: Bool { rowsTaken == sourceHeight }

    /// Averages the accumulated block row into the preview and starts the next.
    private func emitRow() {
        let base = currentTargetRow * preview.width * 3
        for t in 0..<preview.width where counts[t] > 0 {
            for channel in 0..<3 { preview.pixels[base + t * 3 + channel] = sums[t * 3 + channel] / counts[t] }
        }
        for index in sums.indices { sums[index] = 0 }
        for index in counts.indices { counts[index] = 0 }
    }
}

/// Hands every row to two sinks: the stitched PNG and its preview.
public struct RowTee<First: ImageRowSink, Second: ImageRowSink>: ImageRowSink {
    public var first: First
    public var second: Second

    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    public mutating func write(row: UnsafeBufferPointer<Float>) throws(EngineError) {
        try first.write(row: row)
        try second.write(row: row)
    }
}
