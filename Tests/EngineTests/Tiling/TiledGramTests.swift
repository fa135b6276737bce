import Testing
import TestSupport
@testable import Engine

@Suite(.serialized)
struct TiledGramTests {
    static let layers = ["block1_relu1", "block2_relu1", "block3_relu1", "block4_relu1"]

    /// 96×96 in 2×2 tiles of 48 (a multiple of block4's stride 8) and a ragged 90×75 image whose
    /// last tiles are short and whose odd rows floor pooling drops, with both poolings.
    @Test(arguments: [(96, 96), (90, 75)], PoolingMode.allCases)
    func tiledGramsEqualTheWholeImagesGrams(size: (Int, Int), pooling: PoolingMode) throws {
        let network = try TilingFixtures.network.get()
        let image = TilingFixtures.image(width: size.0, height: size.1, seed: 11)
        let whole = try FeatureTargets.grams(network: network, pooling: pooling, image: image, layers: Self.layers, threads: 2)
        var windows: [PixelRect] = []
        let tiled = try TiledGram.compute(network: network, pooling: pooling, width: image.width, height: image.height,
                                          layers: Self.layers, tile: 48, threads: 2) { rect in
            windows.append(rect)
            return image.cropped(to: rect)
        }
        #expect(windows.count == 4)
        #expect(windows.allSatisfy { $0.width < image.width || $0.height < image.height }, "no window may be the whole image")
        for layer in Self.layers {
            let scale = TilingFixtures.maxAbs(whole[layer]!)
            let difference = TilingFixtures.maxAbsDifference(whole[layer]!, tiled[layer]!)
            // Only the summation order differs (per tile and per row vs one ssyrk over the whole
            // map, and 1/n applied after the sum): measured ≤ 4e-7 of the largest entry. A lost
            // or doubled row of activations would be ≥ 1%.
            #expect(difference <= 1e-5 * scale, "\(layer): \(difference) vs scale \(scale)")
        }
    }

    @Test func aWindowOfTheWrongSizeIsAnError() throws {
        let network = try TilingFixtures.network.get()
        #expect(throws: EngineError.self) {
            try TiledGram.compute(network: network, pooling: .max, width: 64, height: 64, layers: ["block1_relu1"],
                                  tile: 32, threads: 1) { _ in Tensor(channels: 3, height: 8, width: 8) }
        }
    }
}
