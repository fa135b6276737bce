extension TileGrid {
    /// Checks the grid's parameters; they usually come from the command line or a job file.
    /// Every size is bounded by `maxSide`, which keeps the edge arithmetic far from overflow.
    static func validate(width: Int, height: Int, tileSize: Int, halo: Int, alignment: Int) throws(EngineError) {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height) else {
            throw EngineError(
                .invalidArgument,
                "cannot tile a \(width)×\(height) image: each side must be 1…\(maxSide) pixels")
        }
        guard (1...maxSide).contains(tileSize) else {
            throw EngineError(.invalidArgument, "tile size must be 1…\(maxSide) pixels, got \(tileSize); check --tile")
        }
        guard (0...maxSide).contains(halo) else {
            throw EngineError(.invalidArgument, "halo must be 0…\(maxSide) pixels, got \(halo); check --halo")
        }
        guard (1...tileSize).contains(alignment) else {
            throw EngineError(
                .invalidArgument, "tile alignment must be 1…\(tileSize) (the tile size), got \(alignment)")
        }
        guard tileSize % alignment == 0 else {
            let below = tileSize / alignment * alignment
            let nearest = below == 0 ? "\(alignment)" : "\(below) or \(below + alignment)"
            throw EngineError(
                .invalidArgument,
                "tile size \(tileSize) is not a multiple of the alignment \(alignment); use \(nearest)")
        }
    }

    /// The tile edges along one side of `length` pixels: 0, the borders, then `length`.
    /// See `Layout` for where the borders go. Sizes are validated, so nothing here overflows.
    static func edges(length: Int, tileSize: Int, alignment: Int, layout: Layout) throws(EngineError) -> [Int] {
        let count = (length + tileSize - 1) / tileSize
        var edges = [0]
        for k in 1..<max(count, 1) {
            switch layout {
            case .fixed:
                edges.append(k * tileSize)
            case .balanced:
                // A·⌈k·d⌉ with d = length / (count·A) ≤ tileSize / A, an integer. So no tile
                // is wider than A·⌈d⌉ ≤ tileSize, and the last border A·⌈(count-1)·d⌉ is at most
                // (count-1)·tileSize < length. Borders strictly increase: for d ≥ 1 trivially;
                // for d < 1, d > (count-1)/count gives ⌈k·d⌉ = k. TileGridTests sweeps this.
                let denominator = count * alignment
                edges.append(alignment * ((k * length + denominator - 1) / denominator))
            }
        }
        edges.append(length)
        // The formulas above give strictly increasing edges; say so rather than trap if not.
        for i in 1..<edges.count where edges[i] <= edges[i - 1] {
            throw EngineError(
                .failed,
                "tile layout \(layout.rawValue) for \(length) pixels in tiles of \(tileSize) (alignment \(alignment)) "
                    + "gave edges \(edges); this is a bug, use --layout fixed meanwhile")
        }
        return edges
    }
}
