import Foundation
import GRDB
import Testing
import TestSupport
@testable import Coordinator
import Engine
import Farm

/// An exact job coarse to fine on a real farm: every stage exact, each from the stitch before;
/// job.json, index.html and the dashboard's job page show the stages.
@Suite(.serialized)
struct FarmExactStagesTests {
    func options(_ farm: FarmHarness, iterations: Int) -> [String] {
        ["submit", "tiled", "--coordinator", farm.endpoint, "--content", farm.samples.content, "--style", farm.samples.style1,
         "--mode", "exact", "--tile", "64", "--size", "128", "--init", "content", "--optimizer", "adam", "--lr", "1",
         "--iterations", String(iterations), "--style-layers", "block1_relu1,block2_relu1"]
    }

    /// The first loss line of a job's shard `key` (its succeeded attempt).
    func firstLoss(_ db: DatabaseQueue, job: String, key: String) throws -> Double? {
        try db.read { db in
            try Double.fetchOne(db, sql: """
                SELECT l.total FROM loss_line l JOIN attempt a ON a.id = l.attempt_id JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND t.key = ? AND a.outcome = 'succeeded' ORDER BY l.iteration LIMIT 1
                """, arguments: [job, key])
        }
    }

    @Test func aTwoStageExactJobRendersEachStageFromTheOneBefore() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        try farm.startWorkers(2)
        try farm.waitForWorkers(2)
        // 80×60 content: stage 1 is 64×48 (one tile row, one shard), stage 2 128×96 (two).
        let (submitted, output) = try farm.run(options(farm, iterations: 4) + ["--scale-sizes", "64,128"])
        #expect(submitted == 0, "\(output)")
        let job = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, waited) = try farm.wait(job)
        #expect(status == 0, "\(waited)\n\(farm.log("coordinator"))")

        let folder = farm.data + "/jobs/" + job
        let stage1 = try ImageFile.read(path: folder + "/stage-1.png")
        let final = try ImageFile.read(path: folder + "/output.png")
        #expect(stage1.width == 64 && stage1.height == 48)
        #expect(final.width == 128 && final.height == 96)
        let all = try farm.attempts()
        let succeeded = Set(all.filter { $0.outcome == "succeeded" }.map(\.key))
        #expect(succeeded.isSuperset(of: ["style-targets-1", "shard-1-1", "stitch-1", "style-targets", "shard-1", "shard-2", "stitch"]),
                "\(all)")

        // Stage 2's shards start from stage 1's stitch...
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        let stored = try #require(try db.read { try Data.fetchOne($0, sql: "SELECT request FROM task WHERE job_id = ? AND key = 'shard-1'",
                                                                  arguments: [job]) })
        guard case .shard(let order) = try WorkOrder.decode(stored) else {
            Issue.record("shard-1 is a shard order")
            return
        }
        #expect(order.render.initialization == "task:stitch-1" && order.stage == 2)

        // ...and so from another image than a single-stage job, which starts from the content.
        let (single, singleOutput) = try farm.run(options(farm, iterations: 1) + ["--shards", "2"])
        #expect(single == 0, "\(singleOutput)")
        let singleJob = singleOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try farm.wait(singleJob).status == 0)
        let staged = try #require(try firstLoss(db, job: job, key: "shard-1"))
        let fromContent = try #require(try firstLoss(db, job: singleJob, key: "shard-1"))
        #expect(abs(staged - fromContent) > 1e-3 * fromContent, "stage 2 starts at loss \(staged), a job from the content at \(fromContent)")

        // job.json lists both stages; the page links the intermediate one.
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/job.json"))) as? [String: Any]
        let stages = try #require((manifest?["exact"] as? [String: Any])?["stages"] as? [[String: Any]])
        #expect(stages.map { $0["width"] as? Int } == [64, 128] && stages.map { $0["shards"] as? Int } == [1, 2], "\(stages)")
        #expect(stages.allSatisfy { ($0["predictedPeakMb"] as? Int ?? 0) > 0 && ($0["columns"] as? Int) == 1 }, "\(stages)")
        let page = try String(contentsOfFile: folder + "/index.html", encoding: .utf8)
        #expect(page.contains("href=\"stage-1.png\""), "index.html links stage 1")
        let dashboard = try FarmDashboardTests.curl(base + "/jobs/" + job)
        #expect(dashboard.status == 200 && dashboard.body.contains("id=\"stages\""), "the dashboard's job page lists the stages")
        #expect(dashboard.body.contains("/jobs/\(job)/files/stage-1.png"), "and links stage 1's image")
    }
}
