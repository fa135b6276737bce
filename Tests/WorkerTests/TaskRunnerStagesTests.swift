import Foundation
import Testing
import Farm
import TestSupport
@testable import Engine
@testable import Worker

/// A farm task with the colour, coarse-to-fine and denoising options: the request as the
/// coordinator sends it (JSON) renders on a worker and streams every stage.
@Suite(.serialized)
struct TaskRunnerStagesTests {
    @Test func aCoarseToFineTaskWithColourAndDenoisingArrivesIntactAndStreamsEveryStage() throws {
        let dir = try TemporaryDirectory()
        let blobs = try BlobStore(root: dir.path("blobs"))
        let runner = TaskRunner(network: try TaskRunnerTests.network.get(), blobs: blobs, threads: 2)
        var sent = try TaskRunnerTests().request(blobs)
        sent.size = 48
        sent.scales = 2
        sent.scaleIterations = [2, 2]
        sent.preserveColor = .luminance
        sent.denoise = 0.05
        sent.styleScale = 0.8
        let received = try JSONDecoder().decode(RenderRequest.self, from: JSONEncoder().encode(sent))
        #expect(received == sent)

        var batches: [[RenderProgress]] = []
        // A long batch interval: only the render's last record may flush, which needs the
        // iteration counter to run on over the stages up to the planned total.
        let output = try runner.run(received, batchSeconds: 1e9, onProgress: { batches.append($0) })
        #expect(batches.count == 1)
        #expect(batches.flatMap { $0 }.map { $0.stage?.index } == [1, 1, 1, 2, 2, 2])
        #expect(batches.flatMap { $0 }.last?.iteration == 4)
        #expect(output.summary.stages.map(\.size) == [[24, 19], [48, 38]])
        #expect(output.summary.settings.preserveColor == .luminance && output.summary.denoising?.lambda == 0.05)
        let image = try ImageFile.decode(output.png, name: "result", maxPixels: 10_000)
        #expect(image.width == 48 && image.height == 38)
    }
}
