import Foundation
import Testing
import TestSupport
@testable import Engine

/// Renders with the real VGG19 weights on tiny generated images (fast in a debug build).
@Suite(.serialized)
struct RenderEndToEndTests {
    static let network: Result<VGG19Network, any Error> = Result { try VGG19Network(weights: try TestWeights.load(), convolutions: 13) }

    func settings(in dir: TemporaryDirectory, _ change: (inout RenderRequest) -> Void = { _ in }) throws -> RenderSettings {
        let content = try SampleImages.writePattern(in: dir, name: "content.png", width: 60, height: 44, seed: 1)
        let style1 = try SampleImages.writePattern(in: dir, name: "style1.png", width: 50, height: 50, seed: 2)
        let style2 = try SampleImages.writePattern(in: dir, name: "style2.png", width: 80, height: 40, seed: 3)
        var request = RenderRequest(contentPath: content, stylePaths: [style1, style2])
        request.size = 40
        request.iterations = 8
        request.threads = 2
        change(&request)
        return try request.resolve()
    }

    @Test func aRenderLowersTheLossAndHasTheExpectedSize() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.gamma = 0.7 }
        var records: [RenderProgress] = []
        let result = try Renderer(settings: s, network: try Self.network.get()).run(progress: { records.append($0) })
        #expect(result.image.width == 40 && result.image.height == 29)   // 60×44 fitted to 40 on the long side
        #expect(records.map(\.iteration) == Array(0...8))
        // 8 L-BFGS steps from the content image roughly halve the loss here; 0.75 leaves room for noise.
        #expect(result.summary.finalLosses.total < 0.75 * result.summary.initialLosses.total)
        #expect(result.summary.relativeImprovement[0] > 1, "the style weighted 0.7 must improve")
        #expect(result.summary.styleSizes.count == 2 && result.summary.iterationsRun == 8)

        let out = dir.path("out.png")
        try ImageFile.writePNG(result.image, path: out)
        let back = try ImageFile.read(path: out)
        #expect(back.width == 40 && back.height == 29)
    }

    @Test func adamAlsoLowersTheLoss() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.optimizer = .adam; $0.learningRate = 4; $0.iterations = 6 }
        let result = try Renderer(settings: s, network: try Self.network.get()).run()
        #expect(result.summary.finalLosses.total < result.summary.initialLosses.total)
    }

    @Test func aStyleOnlyRenderNeedsNoContentLayer() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.alpha = 0; $0.contentLayers = []; $0.iterations = 2 }
        let result = try Renderer(settings: s, network: try Self.network.get()).run()
        #expect(result.summary.finalLosses.content == 0 && result.summary.finalLosses.total < result.summary.initialLosses.total)
    }

    @Test func theSameSeedAndThreadsGiveTheSameImage() throws {
        let dir = try TemporaryDirectory()
        let a = try settings(in: dir) { $0.initialization = "noise"; $0.seed = 42; $0.iterations = 3 }
        var b = a
        b.seed = 43
        let network = try Self.network.get()
        let first = try Renderer(settings: a, network: network).run().image
        let again = try Renderer(settings: a, network: network).run().image
        let other = try Renderer(settings: b, network: network).run().image
        #expect(first.pixels == again.pixels)
        #expect(first.pixels != other.pixels)
    }

    @Test func aCorruptContentImageIsNamedInTheError() throws {
        let dir = try TemporaryDirectory()
        var s = try settings(in: dir)
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: URL(fileURLWithPath: dir.path("broken.png")))
        s.contentPath = dir.path("broken.png")
        let error = #expect(throws: EngineError.self) { try Renderer(settings: s, network: try Self.network.get()).run() }
        #expect(error?.message.hasPrefix("content image '") == true, "got: \(error?.description ?? "")")
    }

    @Test func anOversizedStyleImageIsRefusedBeforeDecoding() throws {
        let dir = try TemporaryDirectory()
        var s = try settings(in: dir)
        s.maxPixels = 3000   // the 60×44 content and 50×50 style fit, the 80×40 second style does not
        s.size = 40
        let error = #expect(throws: EngineError.self) { try Renderer(settings: s, network: try Self.network.get()).run() }
        #expect(error?.code == .imageTooLarge)
        #expect(error?.message.hasPrefix("style image '") == true && error?.message.contains("--max-pixels") == true,
                "got: \(error?.description ?? "")")
    }

    @Test func aCancelledRenderStopsWithACancelledError() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir)
        let error = #expect(throws: EngineError.self) {
            try Renderer(settings: s, network: try Self.network.get()).run(isCancelled: { true })
        }
        #expect(error?.code == .cancelled)
    }

    @Test func theLossLogHasARowPerIteration() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.iterations = 3 }
        let log = try LossLogWriter(path: dir.path("log.csv"), styleCount: 2, sigmas: [1, 1.5])
        let result = try Renderer(settings: s, network: try Self.network.get()).run(progress: { try log.append($0) })
        let lines = try String(contentsOfFile: dir.path("log.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "iteration,total,content,style_1,style_2,tv,elapsed_s,ri_1,ri_2,sigma_1,sigma_2")
        #expect(lines.count == 5)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",").count == 11 })
        // The last row's RI is the summary's, and σ is what the log was given.
        let last = try #require(lines.last).split(separator: ",").compactMap { Double($0) }
        #expect(abs(last[7] - result.summary.relativeImprovement[0]) <= 1e-9 * result.summary.relativeImprovement[0])
        #expect(abs(last[8] - result.summary.relativeImprovement[1]) <= 1e-9 * result.summary.relativeImprovement[1])
        #expect(Array(last[9...10]) == [1, 1.5])
    }
}
