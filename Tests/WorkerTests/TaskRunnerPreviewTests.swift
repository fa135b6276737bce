import Foundation
import Testing
import Farm
import Protocol
import TestSupport
@testable import Engine
@testable import Worker

/// A worker's previews: on the interval plus first and last, as JPEG, and only when asked.
@Suite(.serialized)
struct TaskRunnerPreviewTests {
    func order(_ blobs: BlobStore, iterations: Int) throws -> WorkOrder {
        let content = try blobs.store(try ImageFile.encodePNG(SampleImages.pattern(width: 40, height: 32, seed: 1)))
        let style = try blobs.store(try ImageFile.encodePNG(SampleImages.pattern(width: 36, height: 36, seed: 2)))
        var r = RenderRequest(contentPath: "blob:\(content)", stylePaths: ["blob:\(style)"])
        r.size = 32
        r.iterations = iterations
        return .render(r)
    }

    func run(previews: PreviewSettings?, iterations: Int = 4) throws -> [ProgressBatch] {
        let dir = try TemporaryDirectory()
        let blobs = try BlobStore(root: dir.path("blobs"))
        let runner = TaskRunner(network: try TaskRunnerTests.network.get(), blobs: blobs, threads: 2)
        var batches: [ProgressBatch] = []
        _ = try runner.perform(try order(blobs, iterations: iterations), batchSeconds: 0, previews: previews, onProgress: { batches.append($0) })
        return batches
    }

    @Test func withAZeroIntervalEveryBatchCarriesAJPEGOfTheImage() throws {
        let batches = try run(previews: PreviewSettings(maxSide: 16, interval: 0))
        #expect(batches.flatMap(\.records).map(\.iteration) == [0, 1, 2, 3, 4])
        #expect(batches.allSatisfy { $0.preview != nil })
        for batch in batches {
            let preview = try #require(batch.preview)
            #expect(preview.format == .jpeg && preview.width == 16 && preview.height == 13)
            let image = try ImageFile.decode([UInt8](preview.bytes), name: "preview", maxPixels: 1 << 16)
            #expect(image.width == 16 && image.height == 13)
        }
    }

    @Test func aLongIntervalStillPreviewsTheFirstAndLastIteration() throws {
        let batches = try run(previews: PreviewSettings(maxSide: 256, interval: 3600), iterations: 5)
        let previewed = batches.filter { $0.preview != nil }.compactMap { $0.records.last?.iteration }
        #expect(previewed == [0, 5])
        #expect(batches.compactMap(\.preview).allSatisfy { $0.width == 32 && $0.height == 26 }, "never enlarged past the render")
    }

    @Test func withoutPreviewsNoneIsMade() throws {
        let batches = try run(previews: nil)
        #expect(!batches.isEmpty && batches.allSatisfy { $0.preview == nil })
    }
}
