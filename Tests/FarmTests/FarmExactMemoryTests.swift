import Foundation
import Testing
import TestSupport

/// `ExactMemoryModel` against the workers' measured peaks: each shard of a real exact job (the
/// default preset, VGG19 to block5_relu1) reports both, and they must agree within 20 %.
@Suite(.serialized)
struct FarmExactMemoryTests {
    @Test func eachShardsPeakMemoryIsWhatTheModelPredicts() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        let (submitted, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--content", farm.samples.content,
                                                "--style", farm.samples.style1, "--init", "content", "--optimizer", "adam", "--lr", "1",
                                                "--iterations", "2", "--size", "256", "--tile", "64", "--mode", "exact", "--shards", "2",
                                                "--exact-scheme", "gradient-exchange"])
        #expect(submitted == 0, "\(output)")
        let job = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, waited) = try farm.wait(job)
        #expect(status == 0, "\(waited)\n\(farm.log("coordinator"))")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: farm.data + "/jobs/\(job)/job.json")))
        let tasks = ((manifest as? [String: Any])?["tasks"] as? [[String: Any]] ?? []).filter { ($0["key"] as? String)?.hasPrefix("shard-") == true }
        #expect(tasks.count == 2)
        for task in tasks {
            let summary = task["summary"] as? [String: Any] ?? [:]
            let model = try #require((summary["model_mb"] ?? summary["modelMb"]) as? Double, "\(summary)")
            let peak = try #require((summary["peak_rss_mb"] ?? summary["peakRssMb"]) as? Double, "\(summary)")
            #expect(abs(model - peak) <= 0.2 * peak, "\(task["key"] ?? ""): the model says \(model) MB, the worker peaked at \(peak) MB: \(summary)")
        }
    }
}
