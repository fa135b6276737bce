import Foundation
import Testing
@testable import Engine

struct PresetTests {
    func resolve(_ preset: String, _ change: (inout RenderRequest) -> Void = { _ in }) throws -> RenderSettings {
        var request = RenderRequest(contentPath: "c.png", stylePaths: ["a.png", "b.png"])
        request.preset = preset
        change(&request)
        return try request.resolve()
    }

    static let relu1 = (1...5).map { "block\($0)_relu1" }

    @Test(arguments: [("gatys", PoolingMode.max), ("gatys-avg", .avg)])
    func gatysReadsBlockNRelu1WithEqualWeights(name: String, pooling: PoolingMode) throws {
        let s = try resolve(name)
        #expect(s.pooling == pooling && s.optimizer == .lbfgs && s.preset == name)
        #expect(s.contentLayers.map(\.layer) == ["block4_relu2"])
        #expect(s.styleLayers == [Self.relu1.map { WeightedLayer($0, 1.0 / 5) }, Self.relu1.map { WeightedLayer($0, 1.0 / 5) }])
    }

    @Test func johnsonLayersAreJohnsonsLossLayersOnVGG19() throws {
        let s = try resolve("johnson-layers")
        #expect(s.contentLayers.map(\.layer) == ["block2_relu2"])
        let style = ["block1_relu2", "block2_relu2", "block3_relu3", "block4_relu3"].map { WeightedLayer($0, 1.0 / 4) }
        #expect(s.styleLayers == [style, style])
        #expect(s.pooling == .max)
        #expect(Preset.johnsonLayers.summary.contains("VGG19") && Preset.johnsonLayers.summary.contains("VGG16"))
    }

    @Test func froehlingIsTheIssuesValues() throws {
        let s = try resolve("froehling")
        #expect(s.optimizer == .adam && s.learningRate == 12 && s.learningRateDecay == 0.6 && s.learningRateDecayEvery == 100)
        #expect(s.contentLayers.map(\.layer) == ["block5_relu2"])
        #expect(s.styleLayers[0] == zip(Self.relu1, [1, 1, 0.2, 0.3, 0.01] as [Float]).map { WeightedLayer($0, $1) })
        #expect(s.alpha == 0.002 && s.beta == 0.02 && s.initialization == .content)
    }

    @Test func explicitOptionsOverrideAPreset() throws {
        let s = try resolve("froehling") {
            $0.optimizer = .lbfgs; $0.learningRate = 1; $0.alpha = 5; $0.beta = 7; $0.pooling = .avg
            $0.initialization = "noise"; $0.iterations = 3; $0.contentLayers = ["block4_relu2"]
            $0.styleLayers = [["block1_relu1", "block2_relu1"]]
        }
        #expect(s.optimizer == .lbfgs && s.learningRate == 1 && s.alpha == 5 && s.beta == 7 && s.pooling == .avg)
        #expect(s.initialization == .noise && s.iterations == 3 && s.preset == "froehling")
        #expect(s.contentLayers == [WeightedLayer("block4_relu2", 1)])
        #expect(s.styleLayers[0] == [WeightedLayer("block1_relu1", 1), WeightedLayer("block2_relu1", 1)],
                "froehling weighs named layers 1 each")
        #expect(s.learningRateDecay == 0.6, "what is not given stays the preset's")
    }

    @Test func gatysSharesTheWeightAmongTheLayersNamed() throws {
        let s = try resolve("gatys") { $0.styleLayers = [["block1_relu1", "block2_relu1"], ["block3_relu1", "block4_relu1", "block5_relu1"]] }
        #expect(s.styleLayers[0].map(\.weight) == [0.5, 0.5])
        let third: Float = 1.0 / 3
        #expect(s.styleLayers[1].map(\.weight) == [third, third, third])
    }

    @Test func theListingShowsEveryPresetWithItsValues() throws {
        let text = Preset.listing()
        for preset in Preset.all {
            #expect(text.contains("\n\(preset.name): \(preset.summary)\n"), "\(preset.name) has its summary")
            #expect(text.contains(Preset.describe(preset.styleLayers)), "\(preset.name) lists its style layers")
        }
        #expect(text.contains("×0.6 every 100") && text.contains("0.002") && text.contains("block5_relu1 ×0.01"))
        let json = try JSONEncoder().encode(Preset.all)
        let decoded = try #require(try JSONSerialization.jsonObject(with: json) as? [[String: Any]])
        #expect(decoded.map { $0["name"] as? String } == Preset.all.map(\.name))
        #expect(decoded.first?["styleLayerWeight"] as? String == "10/C² (C = the layer's channels)")
    }

    @Test func anUnknownPresetNamesTheKnownOnes() {
        let error = #expect(throws: EngineError.self) { try resolve("picasso") }
        #expect(error?.message.contains("pastiche, gatys, gatys-avg, johnson-layers, froehling") == true)
    }
}
