import Testing
import TestSupport
@testable import Engine

/// The engine against PyTorch on the same weights (`shared/golden`, see its README).
/// Tolerances are the README's: activations and Gram matrices within 1e-4 of the array's
/// largest magnitude, losses within 1e-4 relative, gradients within 1e-3 of the largest gradient.
@Suite(.serialized)
struct GoldenEngineTests {
    static let styleLayers = ["block1_relu1", "block2_relu1", "block3_relu1", "block4_relu1", "block5_relu1"]
    static let activationLayers = styleLayers + ["block4_relu2"]
    static let height = 48, width = 64

    static func network() throws -> VGG19Network {
        try VGG19Network(weights: try TestWeights.load(), convolutions: 13)
    }

    static func input(_ name: String) throws -> Tensor {
        Tensor(channels: 3, height: height, width: width, values: try Golden.array("input_\(name)"))
    }

    @Test(arguments: PoolingMode.allCases)
    func activationsAndGramsMatchPyTorch(pooling: PoolingMode) throws {
        let network = try Self.network()
        let x = try Self.input("x")
        let graph = try FeatureGraph(network: network, pooling: pooling, height: Self.height, width: Self.width,
                                     taps: Self.activationLayers, threads: 2)
        x.withUnsafeBufferPointer { graph.forward($0.baseAddress!) }
        for layer in Self.activationLayers {
            let (pointer, shape) = graph.activation(layer)
            let actual = Array(UnsafeBufferPointer(start: pointer, count: shape.count))
            let expected = try Golden.array("\(pooling.rawValue)_act_\(layer)_x")
            #expect(Golden.relativeMaxError(actual, expected) <= 1e-4, "\(pooling) \(layer) activation")
            if Self.styleLayers.contains(layer) {
                let gram = Gram.compute(pointer, channels: shape.channels, positions: shape.planeSize)
                let expectedGram = try Golden.array("\(pooling.rawValue)_gram_\(layer)_x")
                #expect(Golden.relativeMaxError(gram, expectedGram) <= 1e-4, "\(pooling) \(layer) Gram")
            }
        }
    }

    enum Term: String, CaseIterable { case content, style, tv }

    @Test(arguments: PoolingMode.allCases, Term.allCases)
    func lossesAndGradientsMatchPyTorch(pooling: PoolingMode, term: Term) throws {
        let network = try Self.network()
        let content = try Self.input("content"), style = try Self.input("style"), x = try Self.input("x")
        let contentLayers = [WeightedLayer("block4_relu2", 1)]
        let styleLayers = Self.styleLayers.map { WeightedLayer($0, 1) }
        let targets = try FeatureTargets.activations(network: network, pooling: pooling, image: content,
                                                     layers: ["block4_relu2"], threads: 2)
        let grams = try FeatureTargets.grams(network: network, pooling: pooling, image: style, layers: Self.styleLayers, threads: 2)
        let graph = try FeatureGraph(network: network, pooling: pooling, height: Self.height, width: Self.width,
                                     taps: Self.activationLayers, threads: 2)
        let objective = try StyleTransferObjective(
            graph: graph, contentLayers: contentLayers, contentTargets: targets,
            styles: [StyleTerm(layers: styleLayers, weight: 1, grams: grams)],
            alpha: term == .content ? 1 : 0, beta: term == .style ? 1 : 0, tvWeight: term == .tv ? 1 : 0)
        var gradient = [Float](repeating: .nan, count: x.count)
        let losses = x.withUnsafeBufferPointer { xp in
            gradient.withUnsafeMutableBufferPointer { objective.evaluate(xp.baseAddress!, gradient: $0.baseAddress!) }
        }

        let manifest = try Golden.manifest()
        let expectedLosses = try #require(manifest["\(pooling.rawValue)_losses"] as? [String: Double])
        let actual = switch term {
        case .content: losses.content
        case .style: losses.styles[0]
        case .tv: losses.tv
        }
        let expected = try #require(expectedLosses[term.rawValue])
        #expect(abs(actual - expected) <= 1e-4 * abs(expected), "\(pooling) \(term) loss \(actual) vs \(expected)")
        #expect(abs(losses.total - actual) <= 1e-9 * abs(actual), "only the \(term) term is weighted")

        let expectedGradient = try Golden.array("\(pooling.rawValue)_grad_\(term.rawValue)")
        #expect(Golden.relativeMaxError(gradient, expectedGradient) <= 1e-3, "\(pooling) \(term) gradient")
    }
}
