/// The arithmetic behind `SeamScore`; see its comment for the definition.
struct SeamMeasurer {
    let image: RGBImage
    let grid: TileGrid
    /// round(T/4) and round(3T/8): where the reference lines sit, measured from the border.
    let referenceOffsets: [Int]

    init(image: RGBImage, grid: TileGrid) {
        self.image = image
        self.grid = grid
        referenceOffsets = [(2 * grid.tileSize + 4) / 8, (3 * grid.tileSize + 4) / 8]
    }

    /// The first (left or top) tile of every border of `orientation`, with the edge index the
    /// border sits on (a column edge for vertical borders, a row edge for horizontal ones).
    func borderPairs(_ orientation: SeamScore.Orientation) -> [(first: TilePosition, across: Int)] {
        switch orientation {
        case .vertical:
            return (0..<grid.rows).flatMap { r in
                (1..<max(grid.columns, 1)).map { c in (TilePosition(row: r, column: c - 1), c) }
            }
        case .horizontal:
            return (1..<max(grid.rows, 1)).flatMap { r in
                (0..<grid.columns).map { c in (TilePosition(row: r - 1, column: c), r) }
            }
        }
    }

    /// The figures of one border, or nil when it cannot be scored.
    func border(_ orientation: SeamScore.Orientation, tiles first: TilePosition, across edge: Int) -> SeamScore.Border? {
        let edges = orientation == .vertical ? grid.columnEdges : grid.rowEdges
        let crossEdges = orientation == .vertical ? grid.rowEdges : grid.columnEdges
        let alongIndex = orientation == .vertical ? first.row : first.column
        let before = edges[edge - 1]..<edges[edge], after = edges[edge]..<edges[edge + 1]
        let along = crossEdges[alongIndex]..<crossEdges[alongIndex + 1]
        let lines = SeamScore.linesPerSide
        guard before.count >= lines, after.count >= lines else { return nil }

        let position = edges[edge]
        var references: [Int] = []
        for offset in referenceOffsets {
            references += [position - offset, position + offset]
        }
        let usable = references.filter { p in
            (before.contains(p - lines) && p + lines <= before.upperBound)
                || (after.contains(p - lines) && p + lines <= after.upperBound)
        }
        guard !usable.isEmpty else { return nil }

        let step = lineStep(orientation, at: position, along: along)
        let reference = usable.map { lineStep(orientation, at: $0, along: along) }.reduce(0, +) / Double(usable.count)
        let second = orientation == .vertical
            ? TilePosition(row: first.row, column: first.column + 1)
            : TilePosition(row: first.row + 1, column: first.column)
        return SeamScore.Border(
            orientation: orientation, tiles: [first, second], position: position,
            start: along.lowerBound, length: along.count, step: step, reference: reference,
            ratio: (step + SeamScore.epsilon) / (reference + SeamScore.epsilon))
    }

    /// The mean over 16-pixel segments of `along` of |mean of lines p-4…p-1 − mean of lines
    /// p…p+3|, channels averaged. Lines are columns for vertical borders, rows for horizontal.
    func lineStep(_ orientation: SeamScore.Orientation, at p: Int, along: Range<Int>) -> Double {
        let lines = SeamScore.linesPerSide
        var total = 0.0, segments = 0
        for start in stride(from: along.lowerBound, to: along.upperBound, by: SeamScore.segmentLength) {
            let segment = start..<min(start + SeamScore.segmentLength, along.upperBound)
            let first = bandMean(orientation, lines: p - lines..<p, along: segment)
            let second = bandMean(orientation, lines: p..<p + lines, along: segment)
            total += (0..<3).map { abs(first[$0] - second[$0]) }.reduce(0, +) / 3
            segments += 1
        }
        return segments > 0 ? total / Double(segments) : 0
    }

    /// The mean R, G and B over a block of `lines` × `along`.
    private func bandMean(_ orientation: SeamScore.Orientation, lines: Range<Int>, along: Range<Int>) -> [Double] {
        var sums = [0.0, 0.0, 0.0]
        let width = image.width
        image.pixels.withUnsafeBufferPointer { pixels in
            for line in lines {
                for a in along {
                    let (x, y) = orientation == .vertical ? (line, a) : (a, line)
                    let p = (y * width + x) * 3
                    sums[0] += Double(pixels[p])
                    sums[1] += Double(pixels[p + 1])
                    sums[2] += Double(pixels[p + 2])
                }
            }
        }
        let count = Double(lines.count * along.count)
        return sums.map { $0 / count }
    }
}
