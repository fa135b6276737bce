import Foundation
import Testing
import Farm
import TestSupport
@testable import Engine
@testable import Worker

@Suite(.serialized)
struct TaskRunnerTests {
    static let network: Result<VGG19Network, any Error> = Result { try VGG19Network(weights: try TestWeights.load(), convolutions: 13) }

    func request(_ blobs: BlobStore) throws -> RenderRequest {
        let content = try blobs.store(try ImageFile.encodePNG(SampleImages.pattern(width: 40, height: 32, seed: 1)))
        let style = try blobs.store(try ImageFile.encodePNG(SampleImages.pattern(width: 36, height: 36, seed: 2)))
        var r = RenderRequest(contentPath: "blob:\(content)", stylePaths: ["blob:\(style)", "blob:\(style)"])
        r.size = 32
        r.iterations = 4
        r.gamma = 0.5
        return r
    }

    @Test func aTaskRendersFromBlobsAndStreamsEveryIteration() throws {
        let dir = try TemporaryDirectory()
        let blobs = try BlobStore(root: dir.path("blobs"))
        let runner = TaskRunner(network: try Self.network.get(), blobs: blobs, threads: 2)
        let r = try request(blobs)
        #expect(TaskRunner.blobReferences(in: r).count == 2, "a style used twice is fetched once")
        #expect(runner.missingBlobs(for: r).isEmpty)
        var batches: [[RenderProgress]] = []
        let output = try runner.run(r, batchSeconds: 0, onProgress: { batches.append($0) })
        #expect(batches.flatMap { $0 }.map(\.iteration) == [0, 1, 2, 3, 4])
        let image = try ImageFile.decode(output.png, name: "result", maxPixels: 10_000)
        #expect(image.width == 32 && image.height == 26)
        #expect(output.summary.settings.threads == 2, "the worker's thread budget, recorded")
    }

    @Test func aMaskTravelsAsABlobAndNoneStaysAWord() throws {
        let dir = try TemporaryDirectory()
        let blobs = try BlobStore(root: dir.path("blobs"))
        let runner = TaskRunner(network: try Self.network.get(), blobs: blobs, threads: 2)
        let mask = try blobs.store(try ImageFile.encodePNG(RGBImage(width: 8, height: 8, fill: 200)))
        var r = try request(blobs)
        r.maskPaths = ["blob:\(mask)", "none"]
        r.iterations = 1
        #expect(TaskRunner.blobReferences(in: r).contains(mask))
        #expect(try runner.localRequest(r).maskPaths == [blobs.path(of: mask) ?? "?", "none"])
        let output = try runner.run(r)
        #expect(output.summary.settings.maskPaths == [blobs.path(of: mask), nil])
    }

    @Test func aMissingBlobIsReportedNotRendered() throws {
        let dir = try TemporaryDirectory()
        let blobs = try BlobStore(root: dir.path("blobs"))
        let runner = TaskRunner(network: try Self.network.get(), blobs: blobs, threads: 1)
        var r = try request(blobs)
        let absent = String(repeating: "ab", count: 32)
        r.stylePaths[1] = "blob:\(absent)"
        #expect(runner.missingBlobs(for: r) == [absent])
        let error = #expect(throws: EngineError.self) { try runner.run(r) }
        #expect(error?.message.contains("input blob:\(absent) is not in this worker's cache") == true)
    }

    // A task names its inputs only as blobs: a worker never reads a file a task names.
    @Test(arguments: ["/etc/passwd", "/proc/self/environ", "~/.ssh/id_rsa", "blob:../../x", "", "blob:ABC", "content.png"])
    func anInputNamedByPathIsRefusedUnread(path: String) throws {
        let dir = try TemporaryDirectory()
        let blobs = try BlobStore(root: dir.path("blobs"))
        let runner = TaskRunner(network: try Self.network.get(), blobs: blobs, threads: 1)
        for field in 0..<4 {
            var r = try request(blobs)
            switch field {
            case 0: r.contentPath = path
            case 1: r.stylePaths[0] = path
            case 2: r.maskPaths = [path, "none"]
            default: r.initialization = path
            }
            #expect(TaskRunner.blobReferences(in: r).allSatisfy { $0.count == 64 }, "nothing but blobs is ever fetched")
            let error = #expect(throws: EngineError.self) { try runner.run(r) }
            #expect(error?.code == .invalidArgument && error?.message.contains("not a blob reference") == true, "\(error.map { "\($0)" } ?? "")")
        }
    }
}

struct BlobStoreTests {
    @Test func blobsAreStoredUnderTheirHashAndVerified() throws {
        let dir = try TemporaryDirectory()
        let blobs = try BlobStore(root: dir.path("blobs"))
        let sha = try blobs.store(Array("hello".utf8))
        #expect(sha == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try blobs.read(sha) == Array("hello".utf8))
        #expect(throws: EngineError.self) { try blobs.store(Array("hullo".utf8), expected: sha) }
        // A blob damaged on disk is detected and removed.
        try Data("jello".utf8).write(to: URL(fileURLWithPath: blobs.path(of: sha)!))
        #expect(throws: EngineError.self) { try blobs.read(sha) }
        #expect(blobs.path(of: sha) == nil)
        #expect(blobs.path(of: "../../etc/passwd") == nil, "only hashes name blobs")
    }
}
