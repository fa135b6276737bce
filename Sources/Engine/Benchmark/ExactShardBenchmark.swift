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
        let content = EngineBenchmark.syntheticImage(width: width, height: height, seed: 1)
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
        do {
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
        for index in 0..<shards {
            let geometry = try ExactShard.geometry(objective: objective, tile: tile, halo: nil, scheme: scheme, shards: shards,
                                                   index: index, columns: columns)
            halo = geometry.layout.halo
            let band = content.cropped(to: geometry.band)
            let shard = try ExactShard(network: network, objective: objective, geometry: geometry, shards: shards, index: index,
                                       content: band, initial: band, threads: threads)
            var graphBytes = 0
            let seconds = try median {
                let sums = try shard.forwardSums()
                graphBytes = max(graphBytes, shard.bytesAllocated)
                _ = try shard.backward(global: sums)
                graphBytes = max(graphBytes, shard.bytesAllocated)
            }
            let share = wholeSeconds * Double(geometry.interior.height) / Double(height)
            reports.append(Shard(index: index, rows: geometry.interior.height, windowPixels: geometry.windowPixels, seconds: seconds,
                                 shareSeconds: share, ratio: seconds / share, graphMb: Double(graphBytes) / 1_048_576))
            progress("shard \(index + 1): \(seconds) s, \(seconds / share)× its share")
        }
        return Report(width: width, height: height, tile: tile, shards: shards, scheme: scheme.rawValue, halo: halo, threads: threads,
                      wholeSeconds: wholeSeconds, wholeGraphMb: Double(wholeGraph) / 1_048_576, shardReports: reports,
                      slowestOverWhole: (reports.map(\.seconds).max() ?? 0) / wholeSeconds)
    }
}
