/// The whole-image objective of an exact tiled render, as the coordinator and every tile see it:
/// `L = α·Σ_l c_l·mean((F_l − P_l)²) + β·Σᵢ wᵢσᵢ·Σ_l s_il·mean((G_l − A_il)²) + λ·TV(x)`, with
/// means and Gram normalisations over the WHOLE image (StyleTransferObjective's definition).
public struct TiledObjective: Sendable {
    public var width: Int
    public var height: Int
    public var pooling: PoolingMode
    public var contentLayers: [WeightedLayer]
    public var styles: [StyleTerm]
    public var alpha: Float
    public var beta: Float
    public var tvWeight: Float

    public init(width: Int, height: Int, pooling: PoolingMode, contentLayers: [WeightedLayer], styles: [StyleTerm],
                alpha: Float, beta: Float, tvWeight: Float) {
        self.width = width
        self.height = height
        self.pooling = pooling
        self.contentLayers = contentLayers
        self.styles = styles
        self.alpha = alpha
        self.beta = beta
        self.tvWeight = tvWeight
    }

    /// Every layer read, content first, each once.
    public var tappedLayers: [String] {
        var names: [String] = []
        for layer in contentLayers.map(\.layer) + styles.flatMap({ $0.layers.map(\.layer) }) where !names.contains(layer) {
            names.append(layer)
        }
        return names
    }

    /// Distinct style layers, in network order.
    public var styleLayers: [String] {
        var names: [String] = []
        for layer in styles.flatMap({ $0.layers.map(\.layer) }) where !names.contains(layer) { names.append(layer) }
        return names.sorted { ((try? VGG19Architecture.location(of: $0).step) ?? 0) < ((try? VGG19Architecture.location(of: $1).step) ?? 0) }
    }

    /// (channels, whole-image positions) of a layer.
    func layerShape(_ layer: String) throws -> (channels: Int, positions: Int) {
        let field = try VGG19Architecture.receptiveField(of: layer)
        let location = try VGG19Architecture.location(of: layer)
        var channels = 3
        for step in VGG19Architecture.steps.prefix(location.step + 1) {
            if case .convolution(let i) = step { channels = VGG19Architecture.convolutions[i].outChannels }
        }
        return (channels, (height / field.stride) * (width / field.stride))
    }

    /// The exact-mode layout for this objective's layers and the scheme's halo.
    public func layout(tile: Int, halo: Int? = nil, scheme: ExactTileStep.Scheme = .wideHalo) throws -> TileWindowLayout {
        try TileWindowLayout(width: width, height: height, tile: tile, layers: tappedLayers,
                             exactGradient: scheme == .wideHalo, halo: halo)
    }

    /// The global Gram matrices `G_l = (Σ_tiles Σ F Fᵀ) / (H_l·W_l)` from summed partial sums.
    public func globalGrams(_ sum: ExactPartialSums) throws -> [String: [Float]] {
        var grams: [String: [Float]] = [:]
        for layer in styleLayers {
            let (channels, positions) = try layerShape(layer)
            guard let partial = sum.grams[layer], partial.count == channels * channels else {
                throw EngineError(.invalidArgument, "the partial Gram sum for \(layer) is missing or has the wrong size")
            }
            let scale = 1 / Float(positions)
            grams[layer] = partial.map { $0 * scale }
        }
        return grams
    }

    /// The whole image's losses from summed partial sums, as `StyleTransferObjective.evaluate`
    /// reports them (components unweighted by α, β, wᵢσᵢ, λ; layer weights applied).
    public func losses(_ sum: ExactPartialSums) throws -> LossBreakdown {
        let grams = try globalGrams(sum)
        var content = 0.0
        for weighted in contentLayers {
            let (channels, positions) = try layerShape(weighted.layer)
            guard let squares = sum.contentSquares[weighted.layer] else {
                throw EngineError(.invalidArgument, "the partial content sum for \(weighted.layer) is missing")
            }
            content += Double(weighted.weight) * squares / Double(channels * positions)
        }
        var styleLosses = [Double](repeating: 0, count: styles.count)
        for (s, style) in styles.enumerated() {
            for weighted in style.layers {
                guard let gram = grams[weighted.layer], let target = style.grams[weighted.layer], target.count == gram.count else {
                    throw EngineError(.invalidArgument, "style target Gram for \(weighted.layer) is missing or has the wrong size")
                }
                var squares = 0.0
                for i in gram.indices {
                    let d = Double(gram[i] - target[i])
                    squares += d * d
                }
                styleLosses[s] += Double(weighted.weight) * squares / Double(gram.count)
            }
        }
        var total = Double(alpha) * content + Double(tvWeight) * sum.tv
        for (s, style) in styles.enumerated() { total += Double(beta) * Double(style.weight) * styleLosses[s] }
        return LossBreakdown(total: total, content: content, styles: styleLosses, tv: sum.tv)
    }
}
