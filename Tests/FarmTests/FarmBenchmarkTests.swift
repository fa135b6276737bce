import Foundation
import Testing
import TestSupport

/// `stylefarm bench farm` as users run it: a real coordinator and simulated instant workers.
/// Figures are not checked (machines here are noisy); that every task was dispatched exactly
/// once and measured is.
@Suite struct FarmBenchmarkTests {
    @Test func theFarmBenchmarkDispatchesEveryTaskOnceAndReportsItsFigures() throws {
        let farm = try FarmHarness()
        let (status, output) = try farm.run(["bench", "farm", "--workers", "20", "--tasks", "300", "--data", farm.dir.path("bench")])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last, "no output")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect(figures["tasks"] as? Int == 300)
        #expect(figures["attempts_recorded"] as? Int == 300, "one attempt per task: none lost, none doubled")
        #expect((figures["tasks_per_second"] as? Double ?? 0) > 0)
        let p50 = try #require(figures["dispatch_latency_ms_p50"] as? Double)
        let p99 = try #require(figures["dispatch_latency_ms_p99"] as? Double)
        #expect(p50 > 0 && p50 <= p99)
        let outputs = try FileManager.default.contentsOfDirectory(atPath: farm.dir.path("bench") + "/jobs").first.map {
            try FileManager.default.contentsOfDirectory(atPath: farm.dir.path("bench") + "/jobs/" + $0)
        }
        #expect(outputs?.count == 300, "every result's image is written")
    }
}
