/// One style's part of the objective: its layers, its weight wᵢ·σᵢ, its Gram targets, and
/// where it applies.
public struct StyleTerm: Sendable {
    /// This style's own layers (styles may read different layers: Qiu & Quach).
    public var layers: [WeightedLayer]
    /// wᵢ·σᵢ: the crossfade or mix weight times the balancing factor.
    public var weight: Float
    /// Target Gram matrix per layer name, C×C row-major: the whole style image's.
    public var grams: [String: [Float]]
    /// Where the style applies, at the rendered image's size; nil for everywhere. A masked
    /// style compares the guided Gram of the mask-weighted features (`Gram+Masked.swift`).
    public var mask: StyleMask?

    public init(layers: [WeightedLayer], weight: Float, grams: [String: [Float]], mask: StyleMask? = nil) {
        self.layers = layers
        self.weight = weight
        self.grams = grams
        self.mask = mask
    }
}

/// The style-transfer objective on one graph:
/// `L = α·Σ_l c_l·mean((F_l − P_l)²) + β·Σᵢ wᵢσᵢ·Σ_l s_il·mean((Gᵢ(F_l) − A_il)²) + λ·TV(x)`,
/// where Gᵢ is the Gram `F Fᵀ/n`, or for a style with mask m the guided Gram `(F·m)(F·m)ᵀ/Σm²`.
///
/// Each style counts only its own layers. Gram matrices of the image are computed once per
/// layer and shared by every unmasked style that reads that layer; their gradients are folded
/// into one symmetric matrix per layer, so the costly `M × F` product runs once per layer
/// however many styles there are. A masked style has its own Gram and product at each of its
/// layers (`GramSlot`); without masks nothing extra is computed.
public final class StyleTransferObjective {
    public let graph: FeatureGraph
    public let alpha: Float
    public let beta: Float
    public let tvWeight: Float
    public let contentLayers: [WeightedLayer]
    public let styles: [StyleTerm]
    let contentTargets: [String: FloatBuffer]
    /// Distinct style layers in network order, each with its Gram slots.
    let styleLayers: [(name: String, slots: [GramSlot])]
    /// F·m for masked Grams and their gradients (the largest masked layer's C·n); nil without masks.
    let maskScratch: FloatBuffer?

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
            for weighted in style.layers {
                let channels = graph.activation(weighted.layer).shape.channels
                guard style.grams[weighted.layer]?.count == channels * channels else {
                    throw EngineError(.invalidArgument, "style target Gram for \(weighted.layer) is missing or has the wrong size")
                }
                if !names.contains(weighted.layer) { names.append(weighted.layer) }
            }
        }
        let order = try names.map { ($0, try VGG19Architecture.location(of: $0).step) }.sorted { $0.1 < $1.1 }.map(\.0)
        var scratchCount = 0
        styleLayers = try order.map { name in
            let shape = graph.activation(name).shape
            let readers = styles.indices.filter { i in styles[i].layers.contains { $0.layer == name } }
            let unmasked = readers.filter { styles[$0].mask == nil }
            var slots = unmasked.isEmpty ? [] : [GramSlot(channels: shape.channels, styles: unmasked, mask: nil)]
            for i in readers {
                guard let mask = styles[i].mask else { continue }
                slots.append(GramSlot(channels: shape.channels, styles: [i],
                                      mask: try mask.weights(height: shape.height, width: shape.width)))
                scratchCount = max(scratchCount, shape.count)
            }
            return (name, slots)
        }
        maskScratch = scratchCount > 0 ? FloatBuffer(count: scratchCount) : nil
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

        // Per style layer and Gram slot: the image's Gram, each style's distance to it, and (for
        // the gradient) Σᵢ coefficientᵢ·(G − Aᵢ) folded into one symmetric matrix.
        var styleLosses = [Double](repeating: 0, count: styles.count)
        for (name, slots) in styleLayers {
            let (features, shape) = graph.activation(name)
            let c = shape.channels, n = shape.planeSize
            for slot in slots {
                slot.computeGram(features, channels: c, positions: n, scratch: maskScratch?.base, threads: graph.threads)
                let normaliser = slot.normaliser(positions: n)
                for s in slot.styles {
                    let style = styles[s]
                    guard let layerWeight = style.layers.first(where: { $0.layer == name })?.weight,
                          let target = style.grams[name] else { continue }
                    let coefficient = normaliser > 0 ? beta * style.weight * layerWeight * 4 / (Float(c * c) * normaliser) : 0
                    let sum = slot.distance(to: target, channels: c, folding: gradient == nil ? nil : coefficient)
                    styleLosses[s] += Double(layerWeight) * sum / Double(c * c)
                }
            }
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
        for slot in styleLayers.first(where: { $0.name == layer })?.slots ?? [] {
            slot.accumulateGradient(features, channels: shape.channels, positions: shape.planeSize,
                                    scratch: maskScratch?.base, into: g, threads: graph.threads)
        }
    }
}
