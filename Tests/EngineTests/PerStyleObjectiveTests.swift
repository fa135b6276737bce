import Testing
import TestSupport
@testable import Engine

/// Per-style layers and masks in the objective, on the small random network of
/// `ObjectiveGradientTests` (6×8 image; block1 at 6×8, block2 at 3×4).
struct PerStyleObjectiveTests {
    static let layers = ["block1_relu1", "block1_pool", "block2_relu2"]

    static func grams(_ seed: UInt64) throws -> [String: [Float]] {
        try FeatureTargets.grams(network: try ObjectiveGradientTests.smallNetwork(), pooling: .max,
                                 image: ObjectiveGradientTests.image(seed, height: 8, width: 10), layers: layers, threads: 1)
    }

    /// Style-only objective (α = 0, β = 2) over `styles`, and its losses and gradient at a fixed image.
    static func evaluate(_ styles: [StyleTerm]) throws -> (losses: LossBreakdown, gradient: [Float]) {
        let taps = layers.filter { layer in styles.contains { $0.layers.contains { $0.layer == layer } } }
        let graph = try FeatureGraph(network: try ObjectiveGradientTests.smallNetwork(), pooling: .max,
                                     height: 6, width: 8, taps: taps, threads: 1)
        let objective = try StyleTransferObjective(graph: graph, contentLayers: [], contentTargets: [:], styles: styles,
                                                   alpha: 0, beta: 2, tvWeight: 0)
        let x = ObjectiveGradientTests.image(3).values
        var gradient = [Float](repeating: .nan, count: x.count)
        let losses = x.withUnsafeBufferPointer { xp in
            gradient.withUnsafeMutableBufferPointer { objective.evaluate(xp.baseAddress!, gradient: $0.baseAddress!) }
        }
        return (losses, gradient)
    }

    /// Largest difference relative to the largest magnitude of `expected`.
    static func relativeError(_ actual: [Float], _ expected: [Float]) -> Float { Golden.relativeMaxError(actual, expected) }

    static func relativeError(_ actual: Double, _ expected: Double) -> Double { abs(actual - expected) / abs(expected) }

    @Test(arguments: [
        // disjoint: style 1 low in the network, style 2 high
        ([WeightedLayer("block1_relu1", 2), WeightedLayer("block1_pool", 1)], [WeightedLayer("block2_relu2", 3)]),
        // sharing block1_relu1 with different weights
        ([WeightedLayer("block1_relu1", 2), WeightedLayer("block2_relu2", 1)], [WeightedLayer("block1_relu1", 0.5)]),
    ])
    func eachStyleCountsOnlyItsOwnLayers(first: [WeightedLayer], second: [WeightedLayer]) throws {
        let a = StyleTerm(layers: first, weight: 0.7, grams: try Self.grams(2))
        let b = StyleTerm(layers: second, weight: 0.4, grams: try Self.grams(4))
        let both = try Self.evaluate([a, b]), onlyA = try Self.evaluate([a]), onlyB = try Self.evaluate([b])
        // Same arithmetic in a different grouping: float32 sums agree to ~1e-6; 1e-5 leaves room.
        #expect(Self.relativeError(both.losses.styles[0], onlyA.losses.styles[0]) < 1e-5)
        #expect(Self.relativeError(both.losses.styles[1], onlyB.losses.styles[0]) < 1e-5)
        let sum = zip(onlyA.gradient, onlyB.gradient).map { $0 + $1 }
        #expect(Self.relativeError(both.gradient, sum) < 1e-4, "the gradient is the sum of each style's own")
        // And the layers really differ: style 2 read on style 1's layers gives another loss.
        let bOnAsLayers = try Self.evaluate([StyleTerm(layers: first, weight: 0.4, grams: try Self.grams(4))])
        #expect(Self.relativeError(bOnAsLayers.losses.styles[0], onlyB.losses.styles[0]) > 0.01)
    }

    @Test func anAllWhiteMaskGivesTheUnmaskedObjective() throws {
        let layers = Self.layers.map { WeightedLayer($0, 1) }
        let white = try StyleMask(width: 8, height: 6, values: [Float](repeating: 1, count: 48))
        let plain = try Self.evaluate([StyleTerm(layers: layers, weight: 0.7, grams: try Self.grams(2))])
        let masked = try Self.evaluate([StyleTerm(layers: layers, weight: 0.7, grams: try Self.grams(2), mask: white)])
        // Σm² = n and F·1 = F: only the order of float32 operations differs.
        #expect(Self.relativeError(masked.losses.styles[0], plain.losses.styles[0]) < 1e-5)
        #expect(Self.relativeError(masked.gradient, plain.gradient) < 1e-4)
    }

    @Test func aMaskedStyleKeepsItsOwnGramBesideAnUnmaskedOne() throws {
        // The same style twice on the same layers, one masked: if the two shared a Gram, the
        // masked one's loss would equal the unmasked one's.
        let layers = Self.layers.map { WeightedLayer($0, 1) }
        let mask = try ObjectiveGradientTests.softMask(height: 6, width: 8)
        let grams = try Self.grams(2)
        let both = try Self.evaluate([StyleTerm(layers: layers, weight: 0.7, grams: grams),
                                      StyleTerm(layers: layers, weight: 0.7, grams: grams, mask: mask)])
        let alone = try Self.evaluate([StyleTerm(layers: layers, weight: 0.7, grams: grams, mask: mask)])
        #expect(Self.relativeError(both.losses.styles[1], alone.losses.styles[0]) < 1e-5)
        #expect(Self.relativeError(both.losses.styles[0], both.losses.styles[1]) > 0.01)
    }
}
