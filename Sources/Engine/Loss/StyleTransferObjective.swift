/// One style's part of the objective: its layers, its weight wᵢ·σᵢ, and its Gram targets.
public struct StyleTerm: Sendable {
    public var layers: [WeightedLayer]
    /// wᵢ·σᵢ: the crossfade or mix weight times the balancing factor.
    public var weight: Float
    /// Target Gram matrix per layer name, C×C row-major.
    public var grams: [String: [Float]]

    public init(layers: [WeightedLayer], weight: Float, grams: [String: [Float]]) {
        self.layers = layers
        self.weight = weight
        self.grams = grams
    }
}

/// The style-transfer objective on one graph:
/// `L = α·Σ_l c_l·mean((F_l − P_l)²) + β·Σᵢ wᵢσᵢ·Σ_l s_il·mean((G(F_l) − A_il)²) + λ·TV(x)`.
///
/// Gram matrices of the image are computed once per layer and shared by every style that reads
/// that layer; their gradients are folded into one symmetric matrix per layer, so the costly
/// `M × F` product runs once per layer however many styles there are.
public final class StyleTransferObjective {
    public let graph: FeatureGraph
    public let alpha: Float
    public let beta: Float
    public let tvWeight: Float
    public let contentLayers: [WeightedLayer]
    public let styles: [StyleTerm]
    let contentTargets: [String: FloatBuffer]
    /// Distinct style layers in network order, with scratch for the image's Gram and the folded gradient.
    let styleLayers: [(name: String, gram: FloatBuffer, fold: FloatBuffer)]
    /// Whether the last evaluation folded a gradient for each style layer.
    private var styleFolded: [Bool]

    public init(graph: FeatureGraph, contentLayers: [WeightedLayer], contentTargets: [String: [Float]],
                styles: [StyleTerm], alpha: Float, beta: Float, tvWeight: Float) throws {
        self.graph = graph
        self.alpha = alpha
        self.beta = beta
        self.tvWeight = tvWeight
        self.contentLayers = contentLayers
        self.styles = styles
        var targets: [String: FloatBuffer] = [:]
        for weighted in contentLayers {
            let (_, shape) = graph.activation(weighted.layer)
            guard let values = contentTargets[weighted.layer], values.count == shape.count else {
                throw EngineError(.invalidArgument, "content target for \(weighted.layer) is missing or has the wrong size")
            }
            let buffer = FloatBuffer(count: values.count)
            values.withUnsafeBufferPointer { buffer.base.update(from: $0.baseAddress!, count: values.count) }
            targets[weighted.layer] = buffer
        }
        self.contentTargets = targets

        var names: [String] = []
        for style in styles {
            for weighted in style.layers where !names.contains(weighted.layer) {
                let channels = graph.activation(weighted.layer).shape.channels
                guard style.grams[weighted.layer]?.count == channels * channels else {
                    throw EngineError(.invalidArgument, "style target Gram for \(weighted.layer) is missing or has the wrong size")
                }
                names.append(weighted.layer)
            }
        }
        let order = try names.map { ($0, try VGG19Architecture.location(of: $0).step) }.sorted { $0.1 < $1.1 }.map(\.0)
        styleLayers = order.map { name in
            let c = graph.activation(name).shape.channels
            return (name, FloatBuffer(count: c * c), FloatBuffer(count: c * c))
        }
        styleFolded = [Bool](repeating: false, count: styleLayers.count)
    }

    public var inputCount: Int { graph.inputShape.count }

    /// Evaluates the losses at `x` (preprocessed CHW); with `gradient` non-nil also writes dL/dx there.
    public func evaluate(_ x: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> LossBreakdown {
        graph.forward(x)

        var content = 0.0
        for weighted in contentLayers {
            let (features, shape) = graph.activation(weighted.layer)
            let target = contentTargets[weighted.layer]!.base
            let n = shape.count
            var sum = 0.0
            var i = 0
            while i < n {
                let end = min(n, i + 4096)
                var partial: Float = 0
                for j in i..<end {
                    let d = features[j] - target[j]
                    partial += d * d
                }
                sum += Double(partial)
                i = end
            }
            content += Double(weighted.weight) * sum / Double(n)
        }

        // Per style layer: the image's Gram, each style's distance to it, and (for the gradient)
        // Σᵢ coefficientᵢ·(G − Aᵢ) folded into one symmetric matrix.
        var styleLosses = [Double](repeating: 0, count: styles.count)
        for index in styleLayers.indices {
            let (name, gramBuffer, fold) = styleLayers[index]
            let (features, shape) = graph.activation(name)
            let c = shape.channels, n = shape.planeSize
            let gram = gramBuffer.base
            Gram.compute(features, channels: c, positions: n, into: gram)
            var folded = false
            for (s, style) in styles.enumerated() {
                guard let layerWeight = style.layers.first(where: { $0.layer == name })?.weight,
                      let target = style.grams[name] else { continue }
                let coefficient = beta * style.weight * layerWeight * 4 / (Float(c * c) * Float(n))
                let foldIt = gradient != nil && coefficient != 0
                if foldIt && !folded { fold.base.update(repeating: 0, count: c * c) }
                var sum = 0.0
                target.withUnsafeBufferPointer { a in
                    for row in 0..<c {
                        var partial: Float = 0
                        for col in 0..<c {
                            let i = row * c + col
                            let d = gram[i] - a[i]
                            partial += d * d
                            if foldIt { fold.base[i] += coefficient * d }
                        }
                        sum += Double(partial)
                    }
                }
                folded = folded || foldIt
                styleLosses[s] += Double(layerWeight) * sum / Double(c * c)
            }
            styleFolded[index] = folded
        }

        let shape = graph.inputShape
        if let gradient {
            graph.backward(into: gradient, input: x) { layer, g in addLossGradient(layer, into: g) }
        }
        let tv = TotalVariation.evaluate(x, channels: shape.channels, height: shape.height, width: shape.width,
                                         weight: tvWeight, gradient: tvWeight == 0 ? nil : gradient)
        var total = Double(alpha) * content + Double(tvWeight) * tv
        for (s, style) in styles.enumerated() { total += Double(beta) * Double(style.weight) * styleLosses[s] }
        return LossBreakdown(total: total, content: content, styles: styleLosses, tv: tv)
    }

    /// Adds d(α·content + β·Σ style)/d(layer) into `g` during the backward pass.
    private func addLossGradient(_ layer: String, into g: UnsafeMutablePointer<Float>) {
        let (features, shape) = graph.activation(layer)
        for weighted in contentLayers where weighted.layer == layer {
            let scale = alpha * weighted.weight * 2 / Float(shape.count)
            guard scale != 0 else { continue }
            let target = contentTargets[layer]!.base
            for i in 0..<shape.count { g[i] += scale * (features[i] - target[i]) }
        }
        if let index = styleLayers.firstIndex(where: { $0.name == layer }), styleFolded[index] {
            Gram.accumulateGradient(styleLayers[index].fold.base, features: features, channels: shape.channels,
                                    positions: shape.planeSize, into: g, threads: graph.threads)
        }
    }
}
