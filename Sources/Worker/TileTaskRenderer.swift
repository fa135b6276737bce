public import Foundation
public import Engine
public import Farm
public import Logging

/// What a worker does for a tiled job's tasks other than the coarse pass: the style targets at
/// the output's scale, and one tile. Both read only windows of the output-sized images
/// (`Resampler.resize(_:width:height:window:)`), so a worker's memory depends on the tile, not
/// on the output.
public struct TileTaskRenderer: Sendable {
    public let network: VGG19Network
    public let logger: Logger

    public init(network: VGG19Network, logger: Logger = Logger(label: "stylefarm.tiles")) {
        self.network = network
        self.logger = logger
    }

    /// How a finished tile went, recorded with its task.
    public struct TileSummary: Sendable, Codable, Equatable {
        public var interior: PixelRect
        public var window: PixelRect
        public var initialLosses: LossBreakdown
        public var finalLosses: LossBreakdown
        public var iterationsRun: Int
        public var evaluations: Int
        public var stoppedEarly: String?
        public var seconds: Double
        public var peakRssMb: Double
        /// Exact shards: the scheme, the pixels of the shard's windows, the checkpoint iteration
        /// it resumed from and the checkpoints it saved.
        public var scheme: ExactTileStep.Scheme?
        public var windowPixels: Int?
        public var resumedAt: Int?
        public var checkpoints: Int?
        /// What `ExactMemoryModel` predicted for the shard's peak, to set against `peakRssMb`.
        public var modelMb: Double?
    }

    /// How the style targets were computed.
    public struct TargetsSummary: Sendable, Codable, Equatable {
        /// [width, height] of each style image at the output's scale.
        public var styleSizes: [[Int]]
        public var seconds: Double
        public var peakRssMb: Double
    }

    /// Styles up to this size get their Grams in one forward pass (about a tile window's
    /// memory); larger ones window by window (`TiledGram`, equal to within float rounding).
    static let wholeStylePixels = 640 * 640

    /// Every style's Gram matrices with the style resized as a whole-image render of the
    /// output's size would resize it, computed window by window.
    public func styleTargets(_ order: StyleTargetsOrder, threads: Int,
                             isCancelled: @Sendable () -> Bool = { false }) throws -> (file: StyleTargetsFile, summary: TargetsSummary) {
        let started = ContinuousClock.now
        var request = order.render
        request.threads = threads
        let settings = try request.resolve()
        let renderer = Renderer(settings: settings, network: network, logger: logger)
        var grams: [[String: [Float]]] = []
        var sizes: [[Int]] = []
        for (i, path) in settings.stylePaths.enumerated() {
            if isCancelled() { throw EngineError(.cancelled, "cancelled") }
            let style = try Renderer.readImage(path, role: "style", maxPixels: settings.maxPixels)
            let size = try renderer.scaledStyleSize(width: style.width, height: style.height,
                                                    contentPixels: order.outputWidth * order.outputHeight, path: path)
            let layers = settings.styleLayers[i].map(\.layer)
            let stride = try VGG19Architecture.totalStride(for: layers)
            logger.info("style targets", metadata: ["style": "\(i + 1)", "size": "\(size.width)x\(size.height)"])
            if size.width * size.height <= Self.wholeStylePixels {
                // One pass, exactly as a whole-image render computes it: an exact tiled job
                // then optimises the very objective `stylefarm render` does.
                let resized = Resampler.resize(style, width: size.width, height: size.height, filter: settings.resample)
                grams.append(try FeatureTargets.grams(network: network, pooling: settings.pooling,
                                                      image: VGGPreprocessing.tensor(from: resized), layers: layers, threads: threads))
            } else {
                grams.append(try TiledGram.compute(network: network, pooling: settings.pooling, width: size.width, height: size.height,
                                                   layers: layers, tile: max(stride, 256 / stride * stride), threads: threads) { rect in
                    VGGPreprocessing.tensor(from: try Resampler.resize(style, width: size.width, height: size.height, window: rect,
                                                                       filter: settings.resample))
                })
            }
            sizes.append([size.width, size.height])
        }
        let file = try StyleTargetsFile(styles: grams, layerOrder: settings.styleLayers.map { $0.map(\.layer) })
        return (file, TargetsSummary(styleSizes: sizes, seconds: (ContinuousClock.now - started).seconds,
                                     peakRssMb: ProcessMemory.peakResidentMegabytes()))
    }

    /// Renders one tile's window from the starting image resized to the output, with the
    /// content at the output's size and the job's style targets. `progress` may ask for a
    /// preview of the window as it is optimised.
    public func tile(_ order: TileOrder, threads: Int, isCancelled: @escaping @Sendable () -> Bool = { false },
                     progress: PreviewingProgress = { _, _ in }) throws -> (window: RGBImage, summary: TileSummary) {
        let started = ContinuousClock.now
        var request = order.render
        request.threads = threads
        let settings = try request.resolve()
        let (width, height, window) = (order.outputWidth, order.outputHeight, order.window)
        guard order.window.contains(order.interior),
              PixelRect(x: 0, y: 0, width: width, height: height).contains(order.window) else {
            throw EngineError(.invalidArgument, "tile window \(order.window) must hold its interior \(order.interior) and lie inside the \(width)×\(height) output")
        }
        let (contentWindow, initial) = try windowInputs(settings, width: width, height: height, rect: window, what: "a tile")
        let terms = try styleTerms(settings, targetsPath: order.styleTargetsPath)
        let result = try WindowRender(settings: .init(settings), network: network)
            .run(content: contentWindow, initial: initial, styles: terms, isCancelled: isCancelled, previewingProgress: progress)
        let summary = TileSummary(interior: order.interior, window: window, initialLosses: result.initialLosses,
                                  finalLosses: result.finalLosses, iterationsRun: result.iterationsRun,
                                  evaluations: result.evaluations, stoppedEarly: result.stoppedEarly,
                                  seconds: (ContinuousClock.now - started).seconds, peakRssMb: ProcessMemory.peakResidentMegabytes())
        return (result.image, summary)
    }

    /// The content and the starting image (the coarse pass, or the content) in `rect` of the
    /// `width`×`height` output, each resized as a whole-image render of that size resizes it.
    func windowInputs(_ settings: RenderSettings, width: Int, height: Int, rect: PixelRect,
                      what: String) throws -> (content: RGBImage, initial: RGBImage) {
        let content = try Renderer.readImage(settings.contentPath, role: "content", maxPixels: settings.maxPixels)
        let contentWindow = try Resampler.resize(content, width: width, height: height, window: rect, filter: settings.resample)
        switch settings.initialization {
        case .content:
            return (contentWindow, contentWindow)
        case .file(let path):
            let start = try Renderer.readImage(path, role: "initial", maxPixels: settings.maxPixels)
            return (contentWindow, try Resampler.resize(start, width: width, height: height, window: rect, filter: settings.resample))
        case .style, .noise:
            throw EngineError(.invalidArgument, "\(what) starts from the coarse pass or the content, not from \(settings.initialization)")
        }
    }

    /// The styles' terms with the job's targets: layers and weights from the settings.
    func styleTerms(_ settings: RenderSettings, targetsPath: String) throws -> [StyleTerm] {
        let targets = try StyleTargetsFile.decode(try FileBytes.read(path: targetsPath, what: "style targets file", maxBytes: 1 << 30),
                                                  name: targetsPath)
        guard targets.styles.count == settings.stylePaths.count else {
            throw EngineError(.invalidArgument, "the style targets hold \(targets.styles.count) styles; the render has \(settings.stylePaths.count)")
        }
        var terms: [StyleTerm] = []
        for i in settings.stylePaths.indices {
            for layer in settings.styleLayers[i] where targets.styles[i][layer.layer] == nil {
                throw EngineError(.invalidArgument, "the style targets of style \(i + 1) have no Gram matrix for \(layer.layer)")
            }
            terms.append(StyleTerm(layers: settings.styleLayers[i], weight: settings.styleWeights[i] * settings.sigmas[i],
                                   grams: targets.styles[i]))
        }
        return terms
    }

    /// One round of an exact job's exchange.
    public struct ExchangeRound: Sendable, Equatable {
        public typealias Phase = ExactExchangePhase
        /// The round's number within this attempt (every shard of the gang counts the same).
        public var step: Int
        public var phase: Phase
    }

    /// Runs one shard of an exact tiled job: its iterations of Adam or L-BFGS, in step with
    /// the other shards through `exchange` (which sends this shard's bytes for a round and
    /// returns the coordinator's answer), from the order's checkpoint if it has one. Returns
    /// the shard's own rows. `progress` may ask for a preview of those rows.
    /// `checkpointRequested` says, at the end of each iteration, whether an answer since asked
    /// for a checkpoint there (`ExactShardRun`).
    public func shard(_ order: ShardOrder, threads: Int, isCancelled: @escaping @Sendable () -> Bool = { false },
                      checkpointRequested: @escaping @Sendable () -> Bool = { false },
                      exchange: (ExchangeRound, [UInt8]) throws -> [UInt8],
                      progress: PreviewingProgress = { _, _ in }) throws -> (band: RGBImage, summary: TileSummary) {
        let started = ContinuousClock.now
        // The shard's own peak, not the process's since it loaded its weights.
        ProcessMemory.resetPeak()
        var request = order.render
        request.threads = threads
        let settings = try request.resolve()
        let (width, height) = (order.outputWidth, order.outputHeight)
        let objective = TiledObjective(width: width, height: height, pooling: settings.pooling, contentLayers: settings.contentLayers,
                                       styles: try styleTerms(settings, targetsPath: order.styleTargetsPath),
                                       alpha: settings.alpha, beta: settings.beta, tvWeight: settings.tvWeight)
        let geometry = try ExactShard.geometry(objective: objective, tile: order.tile, halo: order.halo, scheme: order.scheme ?? .wideHalo,
                                               shards: order.shardCount, index: order.shardIndex, columns: order.columns ?? 1)
        let resume = try order.resumePath.map {
            try ExactShardCheckpoint.decode(try FileBytes.read(path: $0, what: "checkpoint", maxBytes: 1 << 31))
        }
        // The band's images as read are dropped once the shard holds what it needs.
        let shard = try { () throws -> ExactShard in
            let (contentBand, initial) = try windowInputs(settings, width: width, height: height, rect: geometry.band, what: "an exact shard")
            return try ExactShard(network: network, objective: objective, geometry: geometry, shards: order.shardCount,
                                  index: order.shardIndex, content: VGGPreprocessing.tensor(from: contentBand),
                                  initial: VGGPreprocessing.tensor(from: initial), threads: threads)
        }()
        if let resume { logger.info("shard resumes from its checkpoint", metadata: ["iteration": "\(resume.iteration)"]) }
        let outcome = try withoutActuallyEscaping(exchange) { exchange in
            var round = 0
            var run = ExactShardRun(shard: shard, settings: ExactShardRun.Settings(settings, checkpointEvery: order.checkpointEvery ?? 0),
                                    isCancelled: isCancelled, checkpointRequested: checkpointRequested) { phase, bytes in
                defer { round += 1 }
                return try exchange(ExchangeRound(step: round, phase: phase), bytes)
            }
            return try run.run(resume: resume) { iteration, losses, evaluations in
                try progress(RenderProgress(iteration: iteration, iterations: settings.iterations, losses: losses,
                                            elapsed: (ContinuousClock.now - started).seconds, evaluations: evaluations)) { maxSide in
                    // The shard's own rows (its halo belongs to its neighbours' previews).
                    RenderPreview.make(vgg: shard.interiorPixels, maxSide: maxSide)
                }
            }
        }
        let summary = TileSummary(interior: shard.interior, window: geometry.band, initialLosses: outcome.initialLosses,
                                  finalLosses: outcome.finalLosses, iterationsRun: outcome.iterationsRun,
                                  evaluations: outcome.evaluations, stoppedEarly: outcome.stoppedEarly,
                                  seconds: (ContinuousClock.now - started).seconds, peakRssMb: ProcessMemory.peakResidentSinceResetMegabytes(),
                                  scheme: geometry.scheme, windowPixels: geometry.windowPixels, resumedAt: outcome.resumedAt,
                                  checkpoints: outcome.checkpoints,
                                  modelMb: try? Double(ExactMemoryModel(layers: objective.tappedLayers, optimizer: settings.optimizer,
                                                                        history: settings.lbfgsHistory, threads: threads,
                                                                        contentLayers: settings.contentLayers.map(\.layer),
                                                                        heldConvolutions: network.convolutions.count)
                                      .breakdown(geometry, recompute: shard.recomputes).total) / 1_048_576)
        return (VGGPreprocessing.image(from: shard.interiorPixels), summary)
    }
}
