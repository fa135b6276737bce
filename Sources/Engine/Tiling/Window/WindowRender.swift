/// Renders one window (tile interior plus halo) of a large output for an independent-mode tile.
///
/// The caller supplies what a worker has for the tile: the content image's pixels in the window,
/// the starting pixels (the upsampled coarse pass, cropped to the window) and the style Gram
/// targets computed once for the whole output (`TiledGram`, at the output's scale). Content
/// targets come from the content window. The objective is the engine's usual one on the window
/// alone (means and Gram normalisation over the window's positions), optimised with L-BFGS or
/// Adam; the stitcher blends the overlapping halos.
public struct WindowRender {
    public struct Settings: Sendable, Equatable {
        public var pooling: PoolingMode
        public var contentLayers: [WeightedLayer]
        public var alpha: Float
        public var beta: Float
        public var tvWeight: Float
        public var optimizer: RenderSettings.OptimizerKind
        public var learningRate: Float
        public var learningRateDecay: Float
        public var learningRateDecayEvery: Int
        public var lbfgsHistory: Int
        public var iterations: Int
        public var threads: Int

        public init(pooling: PoolingMode, contentLayers: [WeightedLayer], alpha: Float, beta: Float, tvWeight: Float,
                    optimizer: RenderSettings.OptimizerKind, learningRate: Float, learningRateDecay: Float = 1,
                    learningRateDecayEvery: Int = 100, lbfgsHistory: Int = 100, iterations: Int, threads: Int) {
            self.pooling = pooling
            self.contentLayers = contentLayers
            self.alpha = alpha
            self.beta = beta
            self.tvWeight = tvWeight
            self.optimizer = optimizer
            self.learningRate = learningRate
            self.learningRateDecay = learningRateDecay
            self.learningRateDecayEvery = learningRateDecayEvery
            self.lbfgsHistory = lbfgsHistory
            self.iterations = iterations
            self.threads = threads
        }

        /// The objective and optimiser settings of a whole-image render (its style layers and
        /// weights travel in the `StyleTerm`s).
        public init(_ render: RenderSettings) {
            self.init(pooling: render.pooling, contentLayers: render.contentLayers, alpha: render.alpha, beta: render.beta,
                      tvWeight: render.tvWeight, optimizer: render.optimizer, learningRate: render.learningRate,
                      learningRateDecay: render.learningRateDecay, learningRateDecayEvery: render.learningRateDecayEvery,
                      lbfgsHistory: render.lbfgsHistory, iterations: render.iterations, threads: render.threads)
        }
    }

    public struct Result: Sendable {
        /// The rendered window, RGB 0…255 unclamped.
        public var image: RGBImage
        public var initialLosses: LossBreakdown
        public var finalLosses: LossBreakdown
        public var iterationsRun: Int
        public var evaluations: Int
        public var stoppedEarly: String?
    }

    public let settings: Settings
    public let network: VGG19Network

    public init(settings: Settings, network: VGG19Network) {
        self.settings = settings
        self.network = network
    }

    /// - Parameters:
    ///   - content: the content image's pixels in the window.
    ///   - initial: the starting pixels of the window (same size).
    ///   - styles: per style its layers, weight wᵢσᵢ and Gram targets (e.g. from `TiledGram`).
    ///   - progress: called after the start (iteration 0) and after every iteration.
    public func run(content: RGBImage, initial: RGBImage, styles: [StyleTerm],
                    isCancelled: @escaping @Sendable () -> Bool = { false },
                    progress: (RenderProgress) throws -> Void = { _ in }) throws -> Result {
        try run(content: content, initial: initial, styles: styles, isCancelled: isCancelled,
                previewingProgress: { record, _ in try progress(record) })
    }

    /// `run(content:initial:styles:isCancelled:progress:)` whose observer may also ask for a
    /// preview of the window being optimised; the result is the same either way.
    public func run(content: RGBImage, initial: RGBImage, styles: [StyleTerm],
                    isCancelled: @escaping @Sendable () -> Bool = { false },
                    previewingProgress progress: PreviewingProgress) throws -> Result {
        guard content.width == initial.width, content.height == initial.height else {
            throw EngineError(.invalidArgument, "content window is \(content.width)×\(content.height) but the initial window is \(initial.width)×\(initial.height)")
        }
        guard settings.iterations >= 0 else { throw EngineError(.invalidArgument, "iterations \(settings.iterations) must not be negative") }
        // A mask covers the whole image; cutting it per window is not built yet.
        guard styles.allSatisfy({ $0.mask == nil }) else {
            throw EngineError(.invalidArgument, "style masks are not supported in tiled renders yet; render without --mask")
        }
        guard settings.learningRate > 0, settings.learningRateDecay > 0, settings.learningRateDecayEvery > 0, settings.lbfgsHistory > 0 else {
            throw EngineError(.invalidArgument, "learning rate, its decay, decay interval and L-BFGS history must be positive")
        }
        let contentTensor = VGGPreprocessing.tensor(from: content)
        var taps: [String] = []
        for layer in settings.contentLayers.map(\.layer) + styles.flatMap({ $0.layers.map(\.layer) }) where !taps.contains(layer) {
            taps.append(layer)
        }
        let contentTargets = try FeatureTargets.activations(network: network, pooling: settings.pooling, image: contentTensor,
                                                            layers: settings.contentLayers.map(\.layer), threads: settings.threads)
        let graph = try FeatureGraph(network: network, pooling: settings.pooling, height: content.height, width: content.width,
                                     taps: taps, threads: settings.threads)
        let objective = try StyleTransferObjective(graph: graph, contentLayers: settings.contentLayers,
                                                   contentTargets: contentTargets, styles: styles,
                                                   alpha: settings.alpha, beta: settings.beta, tvWeight: settings.tvWeight)
        let function = ObjectiveFunction(objective: objective, isCancelled: isCancelled)
        let optimizer = OptimizationLoop.optimizer(settings.optimizer, dimension: function.dimension,
                                                   learningRate: settings.learningRate, decay: settings.learningRateDecay,
                                                   decayEvery: settings.learningRateDecayEvery,
                                                   lbfgsHistory: settings.lbfgsHistory, threads: settings.threads)
        var x = VGGPreprocessing.tensor(from: initial)
        let outcome = try OptimizationLoop.run(&x, function: function, optimizer: optimizer, iterations: settings.iterations,
                                               what: "window", since: ContinuousClock.now, progress: progress)
        let record = outcome.last
        return Result(image: VGGPreprocessing.image(from: x), initialLosses: outcome.initialLosses, finalLosses: record.losses,
                      iterationsRun: record.iteration, evaluations: record.evaluations, stoppedEarly: outcome.stoppedEarly)
    }
}
