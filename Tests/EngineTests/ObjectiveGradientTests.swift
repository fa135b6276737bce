import Testing
import TestSupport
@testable import Engine

/// Finite-difference checks of the whole objective on a small VGG19 prefix with random weights.
struct ObjectiveGradientTests {
    /// The first four convolutions (through block2_conv2) with small random weights.
    /// `policy` picks each layer's method (the 3-channel first layer is always direct).
    static func smallNetwork(policy: ConvolutionPolicy = .direct) throws -> VGG19Network {
        let specs = VGG19Architecture.convolutions.prefix(4)
        let convs = specs.enumerated().map { i, spec in
            Conv3x3(inChannels: spec.inChannels, outChannels: spec.outChannels,
                    weights: ReferenceKernels.randomValues(spec.outChannels * spec.inChannels * 9, seed: UInt64(100 + i),
                                                           scale: 1 / Float(spec.inChannels * 3)),
                    bias: ReferenceKernels.randomValues(spec.outChannels, seed: UInt64(200 + i), scale: 0.1),
                    method: policy.method(inChannels: spec.inChannels, outChannels: spec.outChannels))
        }
        return try VGG19Network(convolutions: convs)
    }

    static func image(_ seed: UInt64, height: Int = 6, width: Int = 8) -> Tensor {
        Tensor(channels: 3, height: height, width: width,
               values: ReferenceKernels.randomValues(3 * height * width, seed: seed, scale: 2))
    }

    /// `masked`: three styles on one image: two with complementary soft masks (their own Gram
    /// slots) and one without (the shared slot), on overlapping but different layers.
    enum Term: String, CaseIterable { case content, style, tv, all, preActivation, masked }

    static func objective(_ term: Term, pooling: PoolingMode, policy: ConvolutionPolicy = .direct) throws -> StyleTransferObjective {
        let network = try smallNetwork(policy: policy)
        let content = image(1), style = image(2, height: 8, width: 10)
        let contentLayers = term == .preActivation ? [WeightedLayer("block2_conv1", 0.7)] : [WeightedLayer("block2_relu1", 0.7)]
        let styleLayers = [WeightedLayer("block1_relu1", 2), WeightedLayer("block1_pool", 1), WeightedLayer("block2_relu2", 3)]
        let taps = Array(Set(contentLayers.map(\.layer) + styleLayers.map(\.layer)))
        let graph = try FeatureGraph(network: network, pooling: pooling, height: 6, width: 8, taps: taps, threads: 2)
        let targets = try FeatureTargets.activations(network: network, pooling: pooling, image: content,
                                                     layers: contentLayers.map(\.layer), threads: 1)
        let grams = try FeatureTargets.grams(network: network, pooling: pooling, image: style,
                                             layers: styleLayers.map(\.layer), threads: 1)
        let alpha: Float = term == .content || term == .all || term == .preActivation ? 1.5 : 0
        let beta: Float = term == .style || term == .all || term == .masked ? 2 : 0
        let tv: Float = term == .tv || term == .all ? 0.1 : 0
        var styles = [StyleTerm(layers: styleLayers, weight: 0.8, grams: grams)]
        if term == .masked {
            let mask = try softMask(height: 6, width: 8)
            let other = try FeatureTargets.grams(network: network, pooling: pooling, image: image(4, height: 7, width: 9),
                                                 layers: styleLayers.map(\.layer), threads: 1)
            styles[0].mask = mask
            styles.append(StyleTerm(layers: [styleLayers[0], styleLayers[2]], weight: 0.6, grams: other,
                                    mask: try StyleMask(width: 8, height: 6, values: mask.values.map { 1 - $0 })))
            styles.append(StyleTerm(layers: [styleLayers[1]], weight: 0.5, grams: other))
        }
        return try StyleTransferObjective(graph: graph, contentLayers: contentLayers, contentTargets: targets,
                                          styles: styles, alpha: alpha, beta: beta, tvWeight: tv)
    }

    /// A left-to-right ramp from 1 to 0 with a soft edge, never all 0 or all 1 at any layer.
    static func softMask(height: Int, width: Int) throws -> StyleMask {
        let values = (0..<height * width).map { i in
            min(1, max(0, 1.25 - 1.5 * Float(i % width) / Float(width - 1) + 0.05 * Float(i / width)))
        }
        return try StyleMask(width: width, height: height, values: values)
    }

    @Test(arguments: Term.allCases, PoolingMode.allCases)
    func gradientMatchesFiniteDifferences(term: Term, pooling: PoolingMode) throws {
        try expectGradientMatchesFiniteDifferences(term: term, pooling: pooling, policy: .direct)
    }

    /// The same through the Winograd layers (F(4×4) and F(2×2) on every layer but the first).
    @Test(arguments: Term.allCases, [ConvolutionPolicy.winograd4, .winograd2])
    func winogradGradientMatchesFiniteDifferences(term: Term, policy: ConvolutionPolicy) throws {
        for pooling in PoolingMode.allCases { try expectGradientMatchesFiniteDifferences(term: term, pooling: pooling, policy: policy) }
    }

    func expectGradientMatchesFiniteDifferences(term: Term, pooling: PoolingMode, policy: ConvolutionPolicy) throws {
        let objective = try Self.objective(term, pooling: pooling, policy: policy)
        let x = Self.image(3).values
        var gradient = [Float](repeating: .nan, count: x.count)
        _ = x.withUnsafeBufferPointer { xp in
            gradient.withUnsafeMutableBufferPointer { objective.evaluate(xp.baseAddress!, gradient: $0.baseAddress!) }
        }
        func loss(_ input: [Float]) -> Double {
            input.withUnsafeBufferPointer { objective.evaluate($0.baseAddress!, gradient: nil).total }
        }
        let scale = gradient.reduce(Float(0)) { max($0, abs($1)) }
        #expect(scale > 0)
        for i in stride(from: 0, to: x.count, by: 5) {
            let numeric = ReferenceKernels.finiteDifference(x, i, epsilon: 1e-2, loss)
            // Float32 forward passes and ReLU/max-pool kinks near a ±0.01 step: 2% of the largest
            // gradient component is the tolerance that separates a correct gradient from a wrong one
            // (a missing factor or a sign error is off by 50% or more).
            #expect(abs(numeric - Double(gradient[i])) <= 0.02 * Double(scale), "coordinate \(i), \(policy), \(pooling)")
        }
    }

    @Test func componentsAreUnweightedAndTotalIsTheWeightedSum() throws {
        let objective = try Self.objective(.all, pooling: .max)
        let x = Self.image(3).values
        let losses = x.withUnsafeBufferPointer { objective.evaluate($0.baseAddress!, gradient: nil) }
        let expected = 1.5 * losses.content + 2 * Double(Float(0.8)) * losses.styles[0] + Double(Float(0.1)) * losses.tv
        #expect(abs(losses.total - expected) <= 1e-9 * abs(expected))
        #expect(losses.content > 0 && losses.styles[0] > 0 && losses.tv > 0)
    }
}
