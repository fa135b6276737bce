import Foundation
import Testing
import Protocol
@testable import Coordinator
import Engine
import TestSupport

struct JobManifestTests {
    func sweepTasks(contentPath: String = "/data/my photos/content.png") throws -> (SweepSpec, [PlannedTask]) {
        var base = RenderRequest(contentPath: contentPath, stylePaths: ["/data/starry_night.jpg", "/data/it's.png"])
        base.size = 256
        base.iterations = 100
        base.seed = 7
        base.threads = 1
        let spec = SweepSpec(base: base, gammas: [0.3, 0.7], axes: [try SweepAxis(parsing: "beta=1e3")])
        return (spec, try SweepPlanner.plan(spec))
    }

    func manifest() throws -> JobManifest {
        let (spec, tasks) = try sweepTasks()
        let entries = tasks.enumerated().map { index, task in
            JobManifest.Task(key: task.key, parameters: task.parameters, output: task.outputName,
                             finalLosses: index == 0 ? LossBreakdown(total: 10, content: 1, styles: [4, 5], tv: 0) : nil,
                             relativeImprovement: index == 0 ? [12.5, 3.25] : nil,
                             command: RenderCommandLine.shellCommand(for: task.request, output: task.outputName))
        }
        return JobManifest(jobID: "0123456789ab", kind: "sweep", spec: try JSONValue(encoding: spec),
                           createdAt: Date(timeIntervalSince1970: 1_700_000_000), finishedAt: Date(timeIntervalSince1970: 1_700_000_360),
                           styleFarmVersion: "0.1.0", weightsSHA256: String(repeating: "ab", count: 32), tasks: entries)
    }

    @Test func theManifestRoundTripsThroughItsJSON() throws {
        let original = try manifest()
        #expect(try JobManifest.decode(original.encoded()) == original)
    }

    @Test func theJSONIsPrettyWithSortedKeysAndTheSpecAsAnObject() throws {
        let text = String(decoding: try manifest().encoded(), as: UTF8.self)
        #expect(text.contains("\n  \"created_at\" : \"2023-11-14T22:13:20Z\""))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["spec"] is [String: Any])
        #expect(Array(object.keys).sorted() == ["created_at", "finished_at", "job_id", "kind", "spec", "stylefarm_version", "tasks", "weights_sha256"])
        let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == keys.sorted())
    }

    @Test func theSpecKeepsItsNumbersExactly() throws {
        let (spec, _) = try sweepTasks()
        let value = try JSONValue(encoding: spec)
        guard case .object(let fields) = value, case .object(let base) = fields["base"] else {
            Issue.record("the spec is not an object with a base object: \(value)")
            return
        }
        #expect(base["seed"] == .int(7))
        #expect(try JSONDecoder().decode(SweepSpec.self, from: JSONEncoder().encode(value)) == spec)
        #expect(try JSONValue(jsonData: Data("[true, 1, 1.5, null, \"x\"]".utf8))
            == .array([.bool(true), .int(1), .double(1.5), .null, .string("x")]))
        #expect(throws: ProtocolError.self) { try JSONValue(jsonData: Data("{".utf8)) }
    }

    @Test func aTasksCommandSpellsItsGammaAndQuotesPathsWithSpaces() throws {
        let (_, tasks) = try sweepTasks()
        let command = RenderCommandLine.shellCommand(for: tasks[0].request, output: tasks[0].outputName)
        #expect(command.hasPrefix("stylefarm render --content '/data/my photos/content.png' --style /data/starry_night.jpg --style '/data/it'\\''s.png' "))
        #expect(command.contains(" --gamma 0.3 "))
        #expect(command.contains(" --beta 1000 "))
        #expect(command.hasSuffix(" --out gamma-0.3_beta-1000.png"))
    }

    @Test func everyOptionGivenIsSpelledAsItsFlag() throws {
        var request = RenderRequest(contentPath: "c.png", stylePaths: ["a.png", "b.png"])
        request.preset = "gatys"; request.size = 512; request.styleSize = 384; request.iterations = 300
        request.optimizer = .adam; request.learningRate = 0.01; request.learningRateDecay = 0.9
        request.learningRateDecayEvery = 50; request.lbfgsHistory = 20; request.initialization = "noise"
        request.pooling = .avg; request.contentLayers = ["block4_relu2"]; request.styleLayers = [["block1_relu1", "block2_relu1"]]
        request.contentLayerWeights = [1]; request.styleLayerWeights = [[0.5, 0.25]]; request.alpha = 1; request.beta = 1e4
        request.styleWeights = [0.3, 0.7]; request.sigmas = [1, 2.5]; request.tvWeight = 1e-5; request.seed = 42
        request.threads = 2; request.maxPixels = 1_000_000; request.resample = .lanczos3
        let words = RenderCommandLine.arguments(for: request, output: "out.png")
        #expect(words == [
            "stylefarm", "render", "--content", "c.png", "--style", "a.png", "--style", "b.png",
            "--preset", "gatys", "--size", "512", "--style-size", "384", "--iterations", "300", "--optimizer", "adam",
            "--lr", "0.01", "--lr-decay", "0.9", "--lr-decay-every", "50", "--lbfgs-history", "20", "--init", "noise",
            "--pooling", "avg", "--content-layers", "block4_relu2", "--style-layers", "block1_relu1,block2_relu1",
            "--content-layer-weights", "1", "--style-layer-weights", "0.5,0.25", "--alpha", "1", "--beta", "10000",
            "--style-weights", "0.3,0.7", "--sigma", "1,2.5", "--tv-weight", "1e-05", "--seed", "42", "--threads", "2",
            "--max-pixels", "1000000", "--resample", "lanczos3", "--out", "out.png",
        ])
        // A negative value is joined to its flag so that it is not read as a flag.
        request.alpha = -1
        #expect(RenderCommandLine.arguments(for: request, output: "o.png").contains("--alpha=-1"))
    }

    @Test func perStyleListsAndMasksRepeatTheirFlagsInStyleOrder() {
        var request = RenderRequest(contentPath: "c.png", stylePaths: ["a.png", "b.png"])
        request.styleLayers = [["block1_relu1", "block2_relu1"], ["block4_relu1"]]
        request.styleLayerWeights = [[1, 2], [3]]
        request.maskPaths = ["left half.png", "none"]
        let words = RenderCommandLine.arguments(for: request, output: "o.png")
        #expect(words == [
            "stylefarm", "render", "--content", "c.png", "--style", "a.png", "--style", "b.png",
            "--style-layers", "block1_relu1,block2_relu1", "--style-layers", "block4_relu1",
            "--style-layer-weights", "1,2", "--style-layer-weights", "3", "--mask", "left half.png", "--mask", "none",
            "--out", "o.png",
        ])
    }

    @Test(arguments: [("plain/path-1.png", "plain/path-1.png"), ("a b", "'a b'"), ("", "''"), ("it's", "'it'\\''s'"),
                      ("$HOME", "'$HOME'"), ("γ.png", "'γ.png'")])
    func shellQuotingLeavesSafeWordsAlone(word: String, quoted: String) {
        #expect(ShellQuoting.quote(word) == quoted)
    }

    @Test func aTaskEntryComesFromItsPlanAndSummaryFields() throws {
        let (_, tasks) = try sweepTasks()
        let entry = JobManifest.Task(task: tasks[1], summary: nil)
        #expect(entry.key == "gamma=0.7,beta=1000" && entry.output == "gamma-0.7_beta-1000.png")
        #expect(entry.finalLosses == nil && entry.command.contains("--gamma 0.7"))
    }

    @Test func theManifestIsWrittenAsAFile() throws {
        let directory = try TemporaryDirectory()
        let original = try manifest()
        try original.write(to: directory.path("job.json"))
        #expect(try JobManifest.decode(Data(contentsOf: directory.url.appendingPathComponent("job.json"))) == original)
        #expect(throws: EngineError.self) { try original.write(to: directory.path("missing/job.json")) }
    }
}
