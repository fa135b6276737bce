import Testing
import TestSupport
@testable import Engine

/// Exact mode: tile-by-tile forward and backward with global Gram matrices equals the whole-image
/// objective, on real weights at 64×64 in 2×2 tiles (shallow layers keep it fast in debug).
@Suite(.serialized)
struct ExactTileStepTests {
    static let styleLayers = [WeightedLayer("block1_relu1", 0.5), WeightedLayer("block2_relu1", 2)]
    static let contentLayers = [WeightedLayer("block2_relu1", 0.01)]

    static func objective(width: Int, height: Int, pooling: PoolingMode, network: VGG19Network) throws -> TiledObjective {
        let style = TilingFixtures.image(width: 48, height: 40, seed: 5)
        let grams = try FeatureTargets.grams(network: network, pooling: pooling, image: style,
                                             layers: styleLayers.map(\.layer), threads: 2)
        return TiledObjective(width: width, height: height, pooling: pooling, contentLayers: contentLayers,
                              styles: [StyleTerm(layers: styleLayers, weight: 0.7, grams: grams)],
                              alpha: 1, beta: 1e-4, tvWeight: 1e-3)
    }

    /// The same objective on one graph over the whole image: what `stylefarm render` evaluates.
    static func wholeImage(_ objective: TiledObjective, content: Tensor, network: VGG19Network) throws -> StyleTransferObjective {
        let targets = try FeatureTargets.activations(network: network, pooling: objective.pooling, image: content,
                                                     layers: objective.contentLayers.map(\.layer), threads: 2)
        let graph = try FeatureGraph(network: network, pooling: objective.pooling, height: objective.height,
                                     width: objective.width, taps: objective.tappedLayers, threads: 2)
        return try StyleTransferObjective(graph: graph, contentLayers: objective.contentLayers, contentTargets: targets,
                                          styles: objective.styles, alpha: objective.alpha, beta: objective.beta,
                                          tvWeight: objective.tvWeight)
    }

    @Test(arguments: PoolingMode.allCases, ExactTileStep.Scheme.allCases)
    func summedTileGradientsEqualTheWholeImageGradient(pooling: PoolingMode, scheme: ExactTileStep.Scheme) throws {
        let network = try TilingFixtures.network.get()
        let objective = try Self.objective(width: 64, height: 64, pooling: pooling, network: network)
        let content = TilingFixtures.image(width: 64, height: 64, seed: 1)
        let x = TilingFixtures.image(width: 64, height: 64, seed: 2)
        let tiled = try ExactTiledOptimizer(network: network, objective: objective, content: content, initial: x,
                                            tile: 32, scheme: scheme, adam: .init(), threads: 2)
        // Halos: 2·margin + stride − 1 = 9 → 10 (aligned to 2) for the wide halo; the margin, 4,
        // for gradient exchange.
        let window = scheme == .wideHalo ? 42 : 36
        #expect(tiled.layout.tiles.count == 4 && tiled.layout.halo == window - 32)
        #expect(tiled.layout.tiles.allSatisfy { $0.window.width == window && $0.window.height == window })
        let (tiledLosses, tiledGradient) = try tiled.wholeGradient()

        let whole = try Self.wholeImage(objective, content: content, network: network)
        var gradient = [Float](repeating: 0, count: x.count)
        let losses = x.withUnsafeBufferPointer { xp in
            gradient.withUnsafeMutableBufferPointer { whole.evaluate(xp.baseAddress!, gradient: $0.baseAddress!) }
        }
        let scale = TilingFixtures.maxAbs(gradient)
        let difference = TilingFixtures.maxAbsDifference(gradient, tiledGradient.values)
        // The same arithmetic on the same activations, summed in a different order (Gram sums per
        // tile, Gram gradient over window columns): measured 2e-7 of the largest component. A
        // halo of 6 instead of 10 is off by 2% (the control below); 1e-5 separates the two.
        #expect(difference <= 1e-5 * scale, "max |Δg| \(difference), max |g| \(scale)")
        #expect(abs(tiledLosses.total - losses.total) <= 1e-5 * losses.total)
        #expect(abs(tiledLosses.styles[0] - losses.styles[0]) <= 1e-5 * losses.styles[0])
        #expect(abs(tiledLosses.content - losses.content) <= 1e-5 * losses.content)
        #expect(abs(tiledLosses.tv - losses.tv) <= 1e-5 * losses.tv)
    }

    /// Adam is per pixel, so K tiled steps with exact gradients are K whole-image steps.
    @Test(arguments: ExactTileStep.Scheme.allCases)
    func adamStepsTiledMatchAdamStepsOnTheWholeImage(scheme: ExactTileStep.Scheme) throws {
        let network = try TilingFixtures.network.get()
        let objective = try Self.objective(width: 64, height: 64, pooling: .max, network: network)
        let content = TilingFixtures.image(width: 64, height: 64, seed: 1)
        let settings = Adam.Settings(learningRate: 4, decay: 0.9, decayEvery: 2)
        let steps = 6

        var tiledLosses: [Double] = []
        let tiled = try ExactTiledOptimizer(network: network, objective: objective, content: content, initial: content,
                                            tile: 32, scheme: scheme, adam: settings, threads: 2)
        let tiledImage = try tiled.run(steps: steps) { _, losses in tiledLosses.append(losses.total) }

        let function = ObjectiveFunction(objective: try Self.wholeImage(objective, content: content, network: network),
                                         isCancelled: { false })
        let adam = Adam(dimension: content.count, settings: settings)
        var x = content
        var wholeLosses: [Double] = []
        try x.withUnsafeMutableBufferPointer { xp in
            wholeLosses.append(try adam.start(xp.baseAddress!, function: function))
            for _ in 0..<steps { wholeLosses.append(try adam.iterate(xp.baseAddress!, function: function).loss) }
        }
        let difference = TilingFixtures.maxAbsDifference(tiledImage.values, x.values)
        // The issue's bound is 2/255 per pixel (0–255 scale: 2). Gradients agree to float
        // rounding, so the images agree far more closely: measured 0.0014 after 6 steps.
        #expect(difference <= 2, "max pixel difference \(difference)")
        #expect(difference <= 0.05, "max pixel difference \(difference)")
        #expect(tiledLosses.count == steps + 1 && tiledLosses.last! < tiledLosses.first!)
        for (a, b) in zip(tiledLosses, wholeLosses) { #expect(abs(a - b) <= 1e-4 * b) }
    }

    /// The control: the forward halo (the margin) makes the Gram sums exact but not the gradient
    /// near tile borders, which needs activations whose own fields reach further.
    @Test(arguments: [4, 6])
    func aForwardOnlyHaloGetsTheGradientWrongNearBorders(halo: Int) throws {
        let network = try TilingFixtures.network.get()
        let objective = try Self.objective(width: 64, height: 64, pooling: .avg, network: network)
        let content = TilingFixtures.image(width: 64, height: 64, seed: 1)
        let x = TilingFixtures.image(width: 64, height: 64, seed: 2)
        let layout = try TileWindowLayout(width: 64, height: 64, tile: 32, halo: halo, alignment: 2)
        let steps = try layout.tiles.map {
            try ExactTileStep(network: network, objective: objective, layout: layout, tile: $0.index,
                              contentWindow: content.cropped(to: $0.window), scheme: .wideHalo, threads: 2,
                              requireExactHalo: false)
        }
        let sum = try ExactPartialSums.sum(try steps.map { try $0.forward(window: x.cropped(to: $0.tile.window)) })
        var tiled = Tensor(channels: 3, height: 64, width: 64)
        for step in steps { tiled.paste(try step.backward(globalGrams: try objective.globalGrams(sum)), at: step.tile.interior) }

        let whole = try Self.wholeImage(objective, content: content, network: network)
        var gradient = [Float](repeating: 0, count: x.count)
        let losses = x.withUnsafeBufferPointer { xp in
            gradient.withUnsafeMutableBufferPointer { whole.evaluate(xp.baseAddress!, gradient: $0.baseAddress!) }
        }
        // The losses (forward sums) are still exact with the margin as halo…
        #expect(abs(try objective.losses(sum).total - losses.total) <= 1e-5 * losses.total)
        // …but the gradient is visibly wrong.
        let difference = TilingFixtures.maxAbsDifference(gradient, tiled.values)
        #expect(difference > 1e-2 * TilingFixtures.maxAbs(gradient), "max |Δg| \(difference)")
    }

    @Test func partialSumsAddUpEntryByEntry() throws {
        let a = ExactPartialSums(grams: ["l": [1, 2, 2, 5]], contentSquares: ["c": 1.5], tv: 2)
        let b = ExactPartialSums(grams: ["l": [0.5, 1, 1, 3]], contentSquares: ["c": 2], tv: 1)
        #expect(try ExactPartialSums.sum([a, b]) == ExactPartialSums(grams: ["l": [1.5, 3, 3, 8]], contentSquares: ["c": 3.5], tv: 3))
        let bad = ExactPartialSums(grams: ["l": [1]])
        #expect(throws: EngineError.self) { try ExactPartialSums.sum([a, bad]) }
    }

    @Test func aHaloTooSmallForTheBackwardPassIsRefused() throws {
        let network = try TilingFixtures.network.get()
        let objective = try Self.objective(width: 64, height: 64, pooling: .max, network: network)
        let forwardOnly = try TileWindowLayout(width: 64, height: 64, tile: 32, halo: 4, alignment: 2)
        let error = #expect(throws: EngineError.self) {
            try ExactTileStep(network: network, objective: objective, layout: forwardOnly, tile: 0,
                              contentWindow: Tensor(channels: 3, height: 36, width: 36), threads: 1)
        }
        #expect(error?.message.contains("need for an exact gradient") == true, "got: \(error?.description ?? "")")
    }

    @Test func eachSchemeRefusesTheOthersBackward() throws {
        let network = try TilingFixtures.network.get()
        let objective = try Self.objective(width: 64, height: 64, pooling: .max, network: network)
        let layout = try objective.layout(tile: 32)
        let x = TilingFixtures.image(width: 42, height: 42, seed: 3)
        let wide = try ExactTileStep(network: network, objective: objective, layout: layout, tile: 0, contentWindow: x, threads: 1)
        let exchange = try ExactTileStep(network: network, objective: objective, layout: layout, tile: 0, contentWindow: x,
                                         scheme: .gradientExchange, threads: 1)
        _ = try wide.forward(window: x)
        _ = try exchange.forward(window: x)
        #expect(throws: EngineError.self) { try wide.backwardContribution(globalGrams: [:]) }
        #expect(throws: EngineError.self) { try exchange.backward(globalGrams: [:]) }
    }

    @Test func backwardBeforeForwardIsAnError() throws {
        let network = try TilingFixtures.network.get()
        let objective = try Self.objective(width: 64, height: 64, pooling: .max, network: network)
        let layout = try objective.layout(tile: 32)
        let step = try ExactTileStep(network: network, objective: objective, layout: layout, tile: 3,
                                     contentWindow: Tensor(channels: 3, height: 42, width: 42), threads: 1)
        #expect(throws: EngineError.self) { try step.backward(globalGrams: [:]) }
    }
}
