/// A worker's peak memory for one exact shard, from the shard's geometry, the layers and the
/// optimiser, without running it:
///
///     peak = process + weights + graphs + windows + band + optimiser
///
/// - process: the worker without a task (Swift runtime, OpenBLAS, ZeroMQ, the weights file's
///   pages once read): `processBytes`, measured;
/// - weights: the convolutions up to the deepest layer as the policy's methods keep them
///   (`weightsBytes`: direct twice, Winograd F(4×4) as 36/9 of them, the default `auto`);
/// - graphs: `FeatureGraph.plannedBytes` of every window (windows kept), or of the largest
///   (recomputed: one graph alive at a time) — activations, gradients, workspace, ≈ 1.2–2 KB
///   per window pixel to block5_relu1;
/// - windows: while a window runs, its pixels and gradient, a cropped copy of its pixels and its
///   gradient contribution (12 floats per pixel: every window's when kept, the largest's when
///   recomputed), and every window's content targets (their activations, always kept);
/// - band: the band's pixels and the gradient-exchange contribution over it, and the content
///   band and starting image while the shard is made: 12 floats per band pixel;
/// - optimiser, per own pixel: Adam 5 × 3 floats (x, m, v, the gradient, a copy); L-BFGS
///   (2·history + 8) × 3 floats (x, g, the direction, the trial point and its gradient,
///   s and y being made, and history pairs of s and y).
///
/// `ExactMemoryModelTests` checks the graph term against real graphs, and
/// `FarmExactMemoryTests` the whole against a worker's measured peak.
public struct ExactMemoryModel: Sendable, Equatable {
    /// A process's resident memory besides its weights and its shard (Swift runtime, OpenBLAS,
    /// sockets, the weights file's pages): measured 33–52 MB (`bench exact --only-shard` at
    /// 256² and 1024², whose peaks less the other terms leave that much).
    public static let processBytes = 48 << 20

    public var layers: [String]
    public var optimizer: RenderSettings.OptimizerKind
    public var history: Int
    public var threads: Int
    /// The layers whose activations of the content are kept as targets.
    public var contentLayers: [String]
    /// Convolutions the process holds: a worker loads all of VGG19's (`workerConvolutions`) to
    /// run any task; nil for those up to the deepest layer (`stylefarm bench exact`).
    public var heldConvolutions: Int?
    /// The workers' convolution methods: the planner's own `STYLEFARM_CONV` (unset on both
    /// sides by default, so the same), which decides the weights' and workspace's sizes.
    public var policy: ConvolutionPolicy

    /// What a farm worker holds (`stylefarm worker` loads all 16).
    public static let workerConvolutions = 16

    public init(layers: [String], optimizer: RenderSettings.OptimizerKind, history: Int, threads: Int = 1, contentLayers: [String] = [],
                heldConvolutions: Int? = nil, policy: ConvolutionPolicy = VGG19Network.currentConvolutionPolicy) {
        self.layers = layers
        self.policy = policy
        self.heldConvolutions = heldConvolutions
        self.contentLayers = contentLayers
        self.optimizer = optimizer
        self.history = history
        self.threads = threads
    }

    public struct Breakdown: Sendable, Equatable, Codable {
        public var process: Int
        public var weights: Int
        public var graphs: Int
        public var windows: Int
        public var band: Int
        public var optimizer: Int
        public var total: Int { process + weights + graphs + windows + band + optimizer }
    }

    /// Float32 weights and biases of the convolutions up to the deepest of `layers`.
    public func weightsBytes() throws -> Int {
        let deepest = try layers.map { try VGG19Architecture.location(of: $0).step }.max() ?? 0
        var convolutions = 0
        for step in VGG19Architecture.steps.prefix(deepest + 1) { if case .convolution = step { convolutions += 1 } }
        if let heldConvolutions { convolutions = max(convolutions, min(heldConvolutions, VGG19Architecture.convolutions.count)) }
        // What each layer's method keeps; the arrays as read are gone by the time a shard runs.
        return VGG19Architecture.convolutions.prefix(convolutions).reduce(0) {
            $0 + policy.method(inChannels: $1.inChannels, outChannels: $1.outChannels).weightFloats(inChannels: $1.inChannels, outChannels: $1.outChannels)
        } * 4
    }

    public func breakdown(_ geometry: ExactShard.Geometry, recompute: Bool) throws -> Breakdown {
        var graphs: [Int] = [], buffers: [Int] = []
        var targets = 0
        let targetFields = try contentLayers.map { layer -> (channels: Int, stride: Int) in
            let field = try VGG19Architecture.receptiveField(of: layer)
            let step = try VGG19Architecture.location(of: layer).step
            var channels = 3
            for case .convolution(let i) in VGG19Architecture.steps.prefix(step + 1) { channels = VGG19Architecture.convolutions[i].outChannels }
            return (channels, field.stride)
        }
        for index in geometry.windows {
            let tile = geometry.layout.tiles[index]
            let crops = geometry.scheme == .gradientExchange
                ? try ExactTileStep.rowCrops(layout: geometry.layout, tile: tile, layers: layers) : [:]
            graphs.append(try FeatureGraph.plannedBytes(height: tile.window.height, width: tile.window.width, taps: layers,
                                                        threads: threads, rowCrops: crops, policy: policy))
            buffers.append(12 * tile.window.pixelCount * 4)
            for field in targetFields {
                targets += field.channels * (tile.window.height / field.stride) * (tile.window.width / field.stride) * 4
            }
        }
        let windows = (recompute ? (buffers.max() ?? 0) : buffers.reduce(0, +)) + targets
        let band = 12 * geometry.band.pixelCount * 4
        let own = 3 * geometry.interior.pixelCount * 4
        let state = optimizer == .adam ? 5 * own : (2 * history + 8) * own
        return Breakdown(process: Self.processBytes, weights: try weightsBytes(),
                         graphs: recompute ? (graphs.max() ?? 0) : graphs.reduce(0, +), windows: windows, band: band, optimizer: state)
    }

    /// The fewest shards (at most `maxShards`) whose largest shard's peak fits `budget` bytes,
    /// with `columns` windows across each band (recomputed when more than one); nil if none does.
    public func shards(objective: TiledObjective, tile: Int, columns: Int = 1, budget: Int, maxShards: Int) throws -> (count: Int, peak: Int)? {
        let rows = (objective.height + tile - 1) / tile
        for count in 1...max(1, min(maxShards, rows)) {
            var peak = 0
            for index in 0..<count {
                let geometry = try ExactShard.geometry(objective: objective, tile: tile, halo: nil, scheme: .gradientExchange,
                                                       shards: count, index: index, columns: columns)
                peak = max(peak, try breakdown(geometry, recompute: columns > 1).total)
            }
            if peak <= budget { return (count, peak) }
        }
        return nil
    }
}
