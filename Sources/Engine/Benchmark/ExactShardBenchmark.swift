/// `stylefarm bench exact`: each shard of an exact job's evaluation timed on its own (forward
/// pass, partial sums, backward pass to its rows; the exchange left out) against one
/// whole-image evaluation, on `EngineBenchmark`'s synthetic images and preset. A shard's
/// "share" is the whole evaluation's time times its fraction of the image's rows: a ratio of
/// 1 means splitting costs nothing, and K shards then render an exact image K× faster.
public struct ExactShardBenchmark: Sendable {
    public struct Shard: Sendable, Codable, Equatable {
        public var index: Int
        public var rows: Int
        public var windowPixels: Int
        public var seconds: Double
        /// The whole-image evaluation's seconds times the shard's fraction of the rows.
        public var shareSeconds: Double
        public var ratio: Double
        /// Bytes of the shard's graphs (all windows' when they are kept, one when recomputed).
        public var graphMb: Double
        /// `ExactMemoryModel`'s prediction of a worker's peak for this shard (Adam), and this
        /// process's peak so far (one shard's when `onlyShard` is set).
        public var modelMb: Double
        public var peakRssMb: Double
        public var secondsPerMegapixel: Double
    }

    public struct Report: Sendable, Codable, Equatable {
        public var width: Int
        public var height: Int
        public var tile: Int
        public var shards: Int
        public var scheme: String
        public var halo: Int
        public var threads: Int
        public var wholeSeconds: Double
        public var wholeGraphMb: Double
        public var shardReports: [Shard]
        /// The slowest shard's seconds over the whole evaluation's: the exact job's time per
        /// evaluation against one render's, exchange left out.
        public var slowestOverWhole: Double
    }

    public var width: Int
    public var height: Int
    public var tile: Int
    public var shards: Int
    public var scheme: ExactTileStep.Scheme
    public var columns: Int
    public var threads: Int
    public var iterations: Int
    public var preset: Preset = .pastiche
    /// Time only this shard (0-based) and skip the whole-image evaluation (for bands of images
    /// too large for one graph); its share is then 0.
    public var onlyShard: Int?

    public init(width: Int, height: Int, tile: Int, shards: Int, scheme: ExactTileStep.Scheme, columns: Int = 1, threads: Int, iterations: Int) {
        self.width = width
        self.height = height
        self.tile = tile
        self.shards = shards
        self.scheme = scheme
        self.columns = columns
        self.threads = threads
        self.iterations = iterations
    }

    public func run(network: VGG19Network, progress: (String) -> Void = { _ in }) throws -> Report {
        guard width >= 16, height >= 16, iterations >= 1, threads >= 1 else {
            throw EngineError(.invalidArgument, "bench exact needs a size ≥ 16, --iterations ≥ 1, --threads ≥ 1")
        }
        let style = EngineBenchmark.syntheticImage(width: 256, height: 256, seed: 2)
        let grams = try FeatureTargets.grams(network: network, pooling: preset.pooling, image: style,
                                             layers: preset.styleLayers.map(\.layer), threads: threads)
        let objective = TiledObjective(width: width, height: height, pooling: preset.pooling, contentLayers: preset.contentLayers,
                                       styles: [StyleTerm(layers: preset.styleLayers, weight: 1, grams: grams)],
                                       alpha: preset.alpha, beta: preset.beta, tvWeight: preset.tvWeight)
        let clock = ContinuousClock()
        func median(_ body: () throws -> Void) rethrows -> Double {
            try body()   // warm-up
            var times: [Double] = []
            for _ in 0..<iterations {
                let start = clock.now
                try body()
                times.append((clock.now - start).seconds)
            }
            return times.sorted()[times.count / 2]
        }

        var (wholeSeconds, wholeGraph) = (0.0, 0)
        if onlyShard == nil {
            let content = EngineBenchmark.syntheticImage(width: width, height: height, seed: 1)
            let targets = try FeatureTargets.activations(network: network, pooling: preset.pooling, image: content,
                                                         layers: preset.contentLayers.map(\.layer), threads: threads)
            let graph = try FeatureGraph(network: network, pooling: preset.pooling, height: height, width: width,
                                         taps: objective.tappedLayers, threads: threads)
            let whole = try StyleTransferObjective(graph: graph, contentLayers: preset.contentLayers, contentTargets: targets,
                                                   styles: objective.styles, alpha: preset.alpha, beta: preset.beta, tvWeight: preset.tvWeight)
            let gradient = FloatBuffer(count: content.count)
            wholeSeconds = median { content.withUnsafeBufferPointer { _ = whole.evaluate($0.baseAddress!, gradient: gradient.base) } }
            wholeGraph = graph.bytesAllocated
            progress("whole image: \(wholeSeconds) s")
        }

        var reports: [Shard] = []
        var halo = 0
        for index in 0..<shards where onlyShard == nil || onlyShard == index {
            let geometry = try ExactShard.geometry(objective: objective, tile: tile, halo: nil, scheme: scheme, shards: shards,
                                                   index: index, columns: columns)
            halo = geometry.layout.halo
            let band = EngineBenchmark.syntheticImage(width: width, height: height, seed: 1, rows: geometry.band.rows)
            let shard = try ExactShard(network: network, objective: objective, geometry: geometry, shards: shards, index: index,
                                       content: band, initial: band, threads: threads)
            let model = try ExactMemoryModel(layers: objective.tappedLayers, optimizer: .adam, history: 0, threads: threads,
                                             contentLayers: preset.contentLayers.map(\.layer))
                .breakdown(geometry, recompute: shard.recomputes).total
            var graphBytes = 0
            let seconds = try median {
                let sums = try shard.forwardSums()
                graphBytes = max(graphBytes, shard.bytesAllocated)
                _ = try shard.backward(global: sums)
                graphBytes = max(graphBytes, shard.bytesAllocated)
            }
            let share = wholeSeconds * Double(geometry.interior.height) / Double(height)
            reports.append(Shard(index: index, rows: geometry.interior.height, windowPixels: geometry.windowPixels, seconds: seconds,
                                 shareSeconds: share, ratio: share > 0 ? seconds / share : 0, graphMb: Double(graphBytes) / 1_048_576,
                                 modelMb: Double(model) / 1_048_576, peakRssMb: ProcessMemory.peakResidentMegabytes(),
                                 secondsPerMegapixel: seconds / (Double(geometry.interior.pixelCount) / 1e6)))
            progress("shard \(index + 1): \(seconds) s, \(seconds / share)× its share")
        }
        return Report(width: width, height: height, tile: tile, shards: shards, scheme: scheme.rawValue, halo: halo, threads: threads,
                      wholeSeconds: wholeSeconds, wholeGraphMb: Double(wholeGraph) / 1_048_576, shardReports: reports,
                      slowestOverWhole: wholeSeconds > 0 ? (reports.map(\.seconds).max() ?? 0) / wholeSeconds : 0)
    }

    /// One shard's predicted peak, by term (`ExactMemoryModel`).
    public struct PlannedShard: Sendable, Codable, Equatable {
        public var index: Int
        public var rows: Int
        public var windows: Int
        public var windowPixels: Int
        public var adamMb: Double
        public var lbfgsMb: Double
        public var adam: ExactMemoryModel.Breakdown
    }

    /// Every shard's predicted peak for Adam and for L-BFGS with `history`, nothing run.
    public func plan(history: Int) throws -> [PlannedShard] {
        let objective = TiledObjective(width: width, height: height, pooling: preset.pooling, contentLayers: preset.contentLayers,
                                       styles: [StyleTerm(layers: preset.styleLayers, weight: 1, grams: [:])],
                                       alpha: preset.alpha, beta: preset.beta, tvWeight: preset.tvWeight)
        let adam = ExactMemoryModel(layers: objective.tappedLayers, optimizer: .adam, history: history, threads: threads,
                                    contentLayers: preset.contentLayers.map(\.layer))
        let lbfgs = ExactMemoryModel(layers: objective.tappedLayers, optimizer: .lbfgs, history: history, threads: threads,
                                     contentLayers: preset.contentLayers.map(\.layer))
        return try (0..<shards).map { index in
            let geometry = try ExactShard.geometry(objective: objective, tile: tile, halo: nil, scheme: scheme, shards: shards,
                                                   index: index, columns: columns)
            let recompute = geometry.windows.count > 1 && scheme == .gradientExchange
            let a = try adam.breakdown(geometry, recompute: recompute), l = try lbfgs.breakdown(geometry, recompute: recompute)
            return PlannedShard(index: index, rows: geometry.interior.height, windows: geometry.windows.count,
                                windowPixels: geometry.windowPixels, adamMb: Double(a.total) / 1_048_576,
                                lbfgsMb: Double(l.total) / 1_048_576, adam: a)
        }
    }
}
