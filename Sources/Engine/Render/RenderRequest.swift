/// A render as a user asks for it: a preset plus any options given explicitly (nil = not
/// given). `resolve()` turns it into complete `RenderSettings`; the CLI and farm jobs share it.
public struct RenderRequest: Sendable, Codable, Equatable {
    public var contentPath: String
    public var stylePaths: [String]
    public var preset: String?
    public var size: Int?
    public var styleSize: Int?
    public var iterations: Int?
    public var optimizer: RenderSettings.OptimizerKind?
    public var learningRate: Float?
    public var learningRateDecay: Float?
    public var learningRateDecayEvery: Int?
    public var lbfgsHistory: Int?
    public var initialization: String?
    public var pooling: PoolingMode?
    public var contentLayers: [String]?
    /// One list for every style, or one list per style in the order of `stylePaths`.
    public var styleLayers: [[String]]?
    public var contentLayerWeights: [Float]?
    /// Like `styleLayers`: one list for every style, or one per style.
    public var styleLayerWeights: [[Float]]?
    /// One per style: a mask image's path, or "none" for a style that applies everywhere.
    public var maskPaths: [String]?
    public var alpha: Float?
    public var beta: Float?
    public var gamma: Float?
    public var styleWeights: [Float]?
    public var sigmas: [Float]?
    public var tvWeight: Float?
    public var seed: UInt64?
    public var threads: Int?
    public var maxPixels: Int?
    public var resample: ResampleFilter?
    // Colour, coarse-to-fine stages and denoising: see RenderRequest+Stages.swift.
    public var preserveColor: ColorPreservation?
    public var scales: Int?
    public var scaleSizes: [Int]?
    public var scaleIterations: [Int]?
    public var styleScale: Float?
    public var denoise: Float?

    public init(contentPath: String, stylePaths: [String]) {
        self.contentPath = contentPath
        self.stylePaths = stylePaths
    }

    public func resolve() throws -> RenderSettings {
        let preset = try Preset.named(self.preset ?? Preset.pastiche.name)
        var s = RenderSettings(contentPath: contentPath, stylePaths: stylePaths, preset: preset)
        if let size { s.size = size }
        s.styleSize = styleSize
        if let iterations { s.iterations = iterations }
        if let optimizer { s.optimizer = optimizer }
        if let learningRate { s.learningRate = learningRate }
        if let learningRateDecay { s.learningRateDecay = learningRateDecay }
        if let learningRateDecayEvery { s.learningRateDecayEvery = learningRateDecayEvery }
        if let lbfgsHistory { s.lbfgsHistory = lbfgsHistory }
        if let initialization { s.initialization = .init(argument: initialization) }
        if let pooling { s.pooling = pooling }
        s.contentLayers = try Self.weightedLayers(names: contentLayers, weights: contentLayerWeights,
                                                  presetLayers: preset.contentLayers, rule: preset.contentLayerWeight,
                                                  option: "--content-layer-weights")
        s.styleLayers = try perStyleLayers(preset: preset)
        s.maskPaths = try perStyleMasks()
        if let alpha { s.alpha = alpha }
        if let beta { s.beta = beta }
        if gamma != nil && styleWeights != nil {
            throw EngineError(.invalidArgument, "give either --gamma (a crossfade of two styles) or --style-weights, not both")
        }
        if let gamma { s.styleWeights = try RenderSettings.crossfadeWeights(gamma: gamma, styleCount: stylePaths.count) }
        if let styleWeights { s.styleWeights = styleWeights }
        if let sigmas { s.sigmas = sigmas }
        if let tvWeight { s.tvWeight = tvWeight }
        if let seed { s.seed = seed }
        if let threads { s.threads = threads }
        if let maxPixels { s.maxPixels = maxPixels }
        if let resample { s.resample = resample }
        try resolveStagesColorAndDenoise(into: &s)
        try s.validate()
        return s
    }

    /// Layer names with weights: one weight per layer, or a single weight for all of them; with
    /// names but no weights, the preset's rule weighs each named layer.
    static func weightedLayers(names: [String]?, weights: [Float]?, presetLayers: [WeightedLayer],
                               rule: LayerWeightRule, option: String) throws -> [WeightedLayer] {
        let layerNames = names ?? presetLayers.map(\.layer)
        for name in layerNames { _ = try VGG19Architecture.location(of: name) }
        guard let weights else {
            return names == nil ? presetLayers : zip(layerNames, rule.weights(for: layerNames)).map { WeightedLayer($0, $1) }
        }
        if weights.count == 1 { return layerNames.map { WeightedLayer($0, weights[0]) } }
        guard weights.count == layerNames.count else {
            throw EngineError(.invalidArgument, "\(option) gives \(weights.count) weights for \(layerNames.count) layers (\(layerNames.joined(separator: ","))); give one per layer or a single weight for all")
        }
        return zip(layerNames, weights).map { WeightedLayer($0, $1) }
    }
}
