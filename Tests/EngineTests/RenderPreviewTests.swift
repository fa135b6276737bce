import Foundation
import Testing
import TestSupport
@testable import Engine

/// Previews of a running render: made only when asked, never changing the render.
@Suite(.serialized)
struct RenderPreviewTests {
    static let network: Result<VGG19Network, any Error> = Result { try VGG19Network(weights: try TestWeights.load(), convolutions: 13) }

    func settings(in dir: TemporaryDirectory, _ change: (inout RenderRequest) -> Void = { _ in }) throws -> RenderSettings {
        let content = try SampleImages.writePattern(in: dir, name: "content.png", width: 60, height: 44, seed: 1)
        let style = try SampleImages.writePattern(in: dir, name: "style.png", width: 50, height: 50, seed: 2)
        var request = RenderRequest(contentPath: content, stylePaths: [style])
        request.size = 40
        request.iterations = 6
        request.threads = 2
        change(&request)
        return try request.resolve()
    }

    /// Exact equality, no tolerance: making a preview only reads the optimiser's image.
    @Test(arguments: [RenderSettings.OptimizerKind.lbfgs, .adam])
    func aRenderWithAPreviewAtEveryIterationIsBitIdenticalToOneWithout(optimizer: RenderSettings.OptimizerKind) throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.optimizer = optimizer; $0.learningRate = optimizer == .adam ? 4 : 1 }
        let network = try Self.network.get()
        let plain = try Renderer(settings: s, network: network).run()
        var previews: [RenderPreview] = []
        let previewed = try Renderer(settings: s, network: network).run(previewingProgress: { _, preview in
            previews.append(preview(16))
        })
        #expect(previews.count == 7, "one per record, iterations 0…6")
        #expect(previewed.image.pixels == plain.image.pixels)
        #expect(previewed.summary.finalLosses == plain.summary.finalLosses)
        #expect(previews.allSatisfy { $0.image.width == 16 && $0.image.height == 12 })
        #expect(previews.first != previews.last, "the previews follow the image as it changes")
    }

    /// The last preview is the result shrunk: 40×29 to 20 pixels wide is 2×2 blocks averaged
    /// (the last row of blocks one pixel high), computed here naively from the result. Within
    /// one 8-bit level: sums in another order may round the other way.
    @Test func theLastPreviewShowsTheResult() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir)
        var last: RenderPreview?
        let result = try Renderer(settings: s, network: try Self.network.get()).run(previewingProgress: { record, preview in
            if record.iteration == record.iterations { last = preview(20) }
        })
        let image = result.image
        #expect(image.width == 40 && image.height == 29)
        var expected: [Float] = []
        for by in 0..<15 {
            for bx in 0..<20 {
                for c in 0..<3 {
                    let rows = (2 * by)..<min(29, 2 * by + 2)
                    let samples = rows.count * 2
                    let sum = rows.reduce(Float(0)) { total, y in
                        total + image.pixels[3 * (y * 40 + 2 * bx) + c] + image.pixels[3 * (y * 40 + 2 * bx + 1) + c]
                    }
                    expected.append(min(max((sum / Float(samples)).rounded(), 0), 255))
                }
            }
        }
        let preview = try #require(last)
        #expect(preview.image.width == 20 && preview.image.height == 15)
        let difference = zip(preview.image.pixels, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 1, "largest difference \(difference)")
        #expect(preview.image.pixels.allSatisfy { $0 == $0.rounded() && (0...255).contains($0) }, "8-bit values")
    }

    @Test func aMultiStageRenderPreviewsEveryStage() throws {
        let dir = try TemporaryDirectory()
        let s = try settings(in: dir) { $0.size = nil; $0.scaleSizes = [24, 40]; $0.iterations = 2 }
        var widths: [Int] = []
        _ = try Renderer(settings: s, network: try Self.network.get()).run(previewingProgress: { _, preview in
            widths.append(preview(256).image.width)
        })
        #expect(widths == [24, 24, 24, 40, 40, 40], "never enlarged: each stage at its own size")
    }

    @Test func aLargeImageIsAveragedInBlocksBeforeItIsFitted() {
        // 1000×10 in VGG space, every pixel (R, G, B) = (10, 20, 30).
        let (width, height) = (1000, 10)
        var planes = [Float](repeating: 0, count: 3 * width * height)
        for i in 0..<(width * height) {
            planes[i] = 30 - VGGPreprocessing.meanBGR.0
            planes[width * height + i] = 20 - VGGPreprocessing.meanBGR.1
            planes[2 * width * height + i] = 10 - VGGPreprocessing.meanBGR.2
        }
        let preview = planes.withUnsafeBufferPointer { RenderPreview.make(vgg: $0, width: width, height: height, maxSide: 256) }
        #expect(preview.image.width == 256 && preview.image.height == 3)
        #expect(preview.image.pixels.enumerated().allSatisfy { $0.element == [10, 20, 30][$0.offset % 3] })
        let jpeg = try? preview.jpeg()
        let back = jpeg.flatMap { try? ImageFile.decode($0, name: "preview", maxPixels: 1 << 20) }
        #expect(back?.width == 256 && back?.height == 3 && jpeg?.starts(with: [0xFF, 0xD8]) == true)
    }

    @Test func theScheduleGivesTheFirstTheLastAndOnePerInterval() {
        var schedule = PreviewSchedule(interval: 2)
        let elapsed: [Double] = [0, 0.5, 1.0, 1.9, 2.1, 2.2, 3.9, 4.2, 4.3, 9.0, 9.1]
        let due = elapsed.enumerated().filter { i, seconds in
            schedule.isDue(RenderProgress(iteration: i, iterations: elapsed.count - 1, losses: LossBreakdown(total: 1, content: 1, styles: [], tv: 0),
                                          elapsed: seconds, evaluations: i))
        }.map(\.offset)
        #expect(due == [0, 4, 7, 9, 10], "iteration 0, then ≥ 2 s after the last one due, and the last iteration")
    }
}
