extension TileWindowLayout {
    /// A layout with the given tile borders instead of a regular grid: the rows of tiles end at
    /// `rowEnds` and the columns at `columnEnds` (each strictly increasing, the last the image's
    /// side, every other one a multiple of `alignment`). An exact job's gradient-exchange
    /// scheme uses it with one row of tiles per shard, so that a shard's window is its whole
    /// band plus the halo above and below, however many of the job's tiles the band holds.
    public init(width: Int, height: Int, rowEnds: [Int], columnEnds: [Int], halo: Int, alignment: Int) throws {
        guard width > 0, height > 0 else { throw EngineError(.invalidArgument, "image size \(width)×\(height) is empty") }
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw EngineError(.invalidArgument, "tile alignment \(alignment) must be a power of two")
        }
        guard halo >= 0 else { throw EngineError(.invalidArgument, "halo \(halo) must not be negative") }
        func check(_ ends: [Int], side: Int, what: String) throws {
            guard ends.last == side else { throw EngineError(.invalidArgument, "the \(what) borders must end at \(side)") }
            var previous = 0
            for end in ends {
                guard end > previous, end == side || end % alignment == 0 else {
                    throw EngineError(.invalidArgument, "the \(what) borders \(ends) must increase and be multiples of \(alignment)")
                }
                previous = end
            }
        }
        try check(rowEnds, side: height, what: "row")
        try check(columnEnds, side: width, what: "column")
        let halo = (halo + alignment - 1) / alignment * alignment
        var tiles: [TileWindow] = []
        for (r, rowEnd) in rowEnds.enumerated() {
            let top = r == 0 ? 0 : rowEnds[r - 1]
            for (c, columnEnd) in columnEnds.enumerated() {
                let left = c == 0 ? 0 : columnEnds[c - 1]
                let interior = PixelRect(x: left, y: top, width: columnEnd - left, height: rowEnd - top)
                let x0 = max(0, left - halo), y0 = max(0, top - halo)
                let x1 = min(width, columnEnd + halo), y1 = min(height, rowEnd + halo)
                tiles.append(TileWindow(index: tiles.count, column: c, row: r, interior: interior,
                                        window: PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)))
            }
        }
        self.init(imageWidth: width, imageHeight: height,
                  tileSize: tiles.map { max($0.interior.width, $0.interior.height) }.max() ?? 0,
                  halo: halo, alignment: alignment, columns: columnEnds.count, rows: rowEnds.count, tiles: tiles)
    }

    /// `count` column borders splitting `width` as evenly as `alignment` allows.
    public static func evenEnds(_ side: Int, count: Int, alignment: Int) -> [Int] {
        let units = max(1, side / alignment)
        let parts = max(1, min(count, units))
        return (1...parts).map { $0 == parts ? side : units * $0 / parts * alignment }
    }
}
