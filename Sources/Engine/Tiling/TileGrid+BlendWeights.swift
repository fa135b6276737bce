extension TileGrid {
    /// The blend weights of every grid column (one per window column) and every grid row (one
    /// per window row); a tile's weight at a window pixel is its column weight times its row
    /// weight. See `TileBlend` for the ramps.
    func blendWeights(_ blend: TileBlend) -> (columns: [[Float]], rows: [[Float]]) {
        let columns = (0..<self.columns).map { c in
            Self.axisWeights(blend, index: c, count: self.columns, span: columnSpan)
        }
        let rows = (0..<self.rows).map { r in
            Self.axisWeights(blend, index: r, count: self.rows, span: rowSpan)
        }
        return (columns, rows)
    }

    /// The strip a tile shares with its predecessor runs from its own window's start to the
    /// predecessor's window's end; likewise with its successor.
    private static func axisWeights(
        _ blend: TileBlend, index: Int, count: Int, span: (Int) -> (interior: Range<Int>, window: Range<Int>)
    ) -> [Float] {
        let own = span(index)
        func strip(_ start: Int, _ end: Int) -> Range<Int>? { start < end ? start..<end : nil }
        let before = index > 0 ? strip(own.window.lowerBound, span(index - 1).window.upperBound) : nil
        let after = index + 1 < count ? strip(span(index + 1).window.lowerBound, own.window.upperBound) : nil
        return blend.axisWeights(window: own.window, interior: own.interior, before: before, after: after)
    }
}
