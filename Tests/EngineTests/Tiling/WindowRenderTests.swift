import Testing
import TestSupport
@testable import Engine

@Suite(.serialized)
struct WindowRenderTests {
    static let styleLayers = [WeightedLayer("block1_relu1", 0.2), WeightedLayer("block2_relu1", 0.05), WeightedLayer("block3_relu1", 0.01)]

    /// A 40×40 window (interior 24 + halo 8) cut from a 72×72 output, with style targets from a
    /// tiled Gram pass over a 72×72 style image: the worker's view of an independent tile.
    @Test(arguments: RenderSettings.OptimizerKind.allCases)
    func aWindowRenderLowersTheLossAndReportsEveryIteration(optimizer: RenderSettings.OptimizerKind) throws {
        let network = try TilingFixtures.network.get()
        let style = TilingFixtures.image(width: 72, height: 72, seed: 4)
        let grams = try TiledGram.compute(network: network, pooling: .max, image: style,
                                          layers: Self.styleLayers.map(\.layer), tile: 36, threads: 2)
        let output = SampleImages.pattern(width: 72, height: 72, seed: 3)
        let window = PixelRect(x: 16, y: 8, width: 40, height: 40)
        let settings = WindowRender.Settings(pooling: .max, contentLayers: [WeightedLayer("block3_relu1", 0.01)],
                                             alpha: 1, beta: 1, tvWeight: 1e-4, optimizer: optimizer,
                                             learningRate: optimizer == .adam ? 4 : 1, iterations: 5, threads: 2)
        var records: [RenderProgress] = []
        let result = try WindowRender(settings: settings, network: network).run(
            content: output.cropped(to: window), initial: output.cropped(to: window),
            styles: [StyleTerm(layers: Self.styleLayers, weight: 1, grams: grams)], progress: { records.append($0) })
        #expect(result.image.width == 40 && result.image.height == 40)
        #expect(records.map(\.iteration) == Array(0...5))
        #expect(records.allSatisfy { $0.losses.styles.count == 1 })
        #expect(result.finalLosses.total < 0.9 * result.initialLosses.total,
                "\(result.initialLosses.total) → \(result.finalLosses.total)")
    }

    @Test func mismatchedWindowsAreRefused() throws {
        let network = try TilingFixtures.network.get()
        let settings = WindowRender.Settings(pooling: .max, contentLayers: [WeightedLayer("block1_relu1", 1)], alpha: 1, beta: 0,
                                             tvWeight: 0, optimizer: .adam, learningRate: 1, iterations: 1, threads: 1)
        #expect(throws: EngineError.self) {
            try WindowRender(settings: settings, network: network).run(
                content: RGBImage(width: 16, height: 16), initial: RGBImage(width: 16, height: 8), styles: [])
        }
    }
}
