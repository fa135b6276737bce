import Foundation
import Testing
@testable import Engine

/// `--style-layers`, `--style-layer-weights` and `--mask` per style, as requests resolve them.
extension RenderRequestTests {
    @Test func eachStyleGetsItsOwnLayersAndWeights() throws {
        let s = try request {
            $0.styleLayers = [["block1_relu1", "block2_relu1"], ["block4_relu1", "block5_relu1"]]
            $0.styleLayerWeights = [[1, 2], [3]]
        }.resolve()
        #expect(s.styleLayers == [[WeightedLayer("block1_relu1", 1), WeightedLayer("block2_relu1", 2)],
                                  [WeightedLayer("block4_relu1", 3), WeightedLayer("block5_relu1", 3)]])
        #expect(s.tappedLayers == ["block4_relu2", "block1_relu1", "block2_relu1", "block4_relu1", "block5_relu1"],
                "the image's graph taps the union")
    }

    @Test func oneWeightListAppliesToEveryStylesLayers() throws {
        let s = try request {
            $0.styleLayers = [["block1_relu1", "block2_relu1"], ["block4_relu1", "block5_relu1"]]
            $0.styleLayerWeights = [[0.25, 0.75]]
        }.resolve()
        #expect(s.styleLayers.map { $0.map(\.weight) } == [[0.25, 0.75], [0.25, 0.75]])
    }

    @Test func masksArePerStyleAndNoneMeansEverywhere() throws {
        let s = try request { $0.maskPaths = ["left.png", "none"] }.resolve()
        #expect(s.maskPaths == ["left.png", nil])
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(RenderSettings.self, from: data) == s)
    }

    /// The refusals `badValuesAreRefusedWithAMessageSayingWhatIsAllowed` checks.
    static var allRefused: [(String, String, @Sendable (inout RenderRequest) -> Void)] { refused + refusedPerStyle }

    static let refusedPerStyle: [(String, String, @Sendable (inout RenderRequest) -> Void)] = [
        ("style layers given 3 times for 2 styles", "--style-layers is given 3 times for 2 style images; give it once (for every style) or once per style",
         { $0.styleLayers = [["block1_relu1"], ["block2_relu1"], ["block3_relu1"]] }),
        ("layer weights given 3 times", "--style-layer-weights is given 3 times for 2 style images",
         { $0.styleLayerWeights = [[1], [1], [1]] }),
        ("unknown layer in style 2's list", "style 2 ('s2.png'): unknown layer 'block9_relu1'; layers are",
         { $0.styleLayers = [["block1_relu1"], ["block2_relu1", "block9_relu1"]] }),
        ("weights that do not fit style 1's layers", "style 1 ('s1.png'): --style-layer-weights gives 2 weights for 3 layers",
         { $0.styleLayers = [["block1_relu1", "block2_relu1", "block3_relu1"], ["block4_relu1", "block5_relu1"]]; $0.styleLayerWeights = [[1, 2]] }),
        ("an empty list for style 2", "give at least one style layer for style 2",
         { $0.styleLayers = [["block1_relu1"], []] }),
        ("a negative weight for style 2", "the weight of block2_relu1 for style 2 must be a finite number ≥ 0",
         { $0.styleLayers = [["block1_relu1"], ["block2_relu1"]]; $0.styleLayerWeights = [[1], [-1]] }),
        ("one mask for two styles", "--mask is given 1 time for 2 style images; give it once per style, in the order of --style, with `none`",
         { $0.maskPaths = ["left.png"] }),
        ("an empty mask path", "--mask for style 1 is empty", { $0.maskPaths = ["", "none"] }),
    ]
}
