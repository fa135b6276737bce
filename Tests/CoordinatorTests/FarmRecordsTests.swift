import Foundation
import Testing
import Protocol
import TestSupport
@testable import Coordinator
import Engine
import Farm
import GRDB

/// The records on a real SQLite file (WAL), reopened where a restart matters.
struct FarmRecordsTests {
    func sweep(balance: SweepSpec.Balance = .off) throws -> [PlannedTask] {
        try SweepPlanner.plan(SweepSpec(base: RenderRequest(contentPath: "c.png", stylePaths: ["a.png", "b.png"]),
                                        gammas: [0, 0.5, 1], balance: balance))
    }

    func open(_ dir: TemporaryDirectory, maximumFailures: Int = 3, losses: Int = 50, backoff: Double = 0) throws -> FarmRecords {
        try FarmRecords(path: dir.path("farm.sqlite"), budget: .init(failures: maximumFailures, losses: losses, backoffBase: backoff))
    }

    /// Completes every task as one worker would, and the job's outputs as the coordinator does.
    func finishAll(_ records: FarmRecords, job: String) throws {
        while let lease = try records.leaseNextTask(to: "w9") {
            _ = try records.completeAttempt(lease.attemptID, result: Data(), outputPath: lease.outputName)
        }
        try records.jobOutputsWritten(job)
    }

    @Test func aJobRunsToSuccessWhenEveryTaskCompletes() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        let job = try records.createJob(kind: "sweep", spec: Data("{}".utf8), priority: 0, tasks: try sweep())
        var keys: [String] = []
        while let lease = try records.leaseNextTask(to: "w1") {
            keys.append(lease.key)
            #expect(try records.recordProgress(attempt: lease.attemptID, lines: [
                .init(iteration: 0, total: 10, content: 0, styles: [4, 6], tv: 1, elapsed: 0),
                .init(iteration: 1, total: 8, content: 1, styles: [3, 4], tv: 1, elapsed: 0.5),
            ]) == .accepted)
            #expect(try records.completeAttempt(lease.attemptID, result: Data("{}".utf8), outputPath: "\(lease.outputName)") == .accepted)
        }
        #expect(keys == ["gamma=0", "gamma=0.5", "gamma=1"])
        #expect(try records.job(job)?.state == .finishing, "every task done, the job's own outputs not yet written")
        #expect(try records.finishingJobs().map(\.id) == [job])
        try records.jobOutputsWritten(job)
        #expect(try records.job(job)?.state == .succeeded)
        #expect(try records.counts() == ["job": 1, "task": 3, "attempt": 3, "worker": 0, "loss_line": 6])
    }

    @Test func sweepTasksWaitForTheCalibration() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        _ = try records.createJob(kind: "sweep", spec: Data("{}".utf8), priority: 0, tasks: try sweep(balance: .auto))
        let calibration = try #require(try records.leaseNextTask(to: "w1"))
        #expect(calibration.kind == .calibrate)
        #expect(try records.leaseNextTask(to: "w2") == nil, "renders wait until the calibration is done")
        _ = try records.completeAttempt(calibration.attemptID, result: Data(), outputPath: "calibration.png")
        #expect(try records.leaseNextTask(to: "w2")?.key == "gamma=0")
    }

    @Test func aStaleOrDuplicateResultIsDropped() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        _ = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: try sweep())
        let first = try #require(try records.leaseNextTask(to: "w1"))
        #expect(try records.workerLost("w1", cause: .workerLost) == [.requeued])
        let second = try #require(try records.leaseNextTask(to: "w2"))
        #expect(second.taskID == first.taskID && second.attemptID != first.attemptID)
        // The lost worker comes back with its result: fenced off.
        #expect(try records.completeAttempt(first.attemptID, result: Data(), outputPath: "x") == .stale)
        #expect(try records.recordProgress(attempt: first.attemptID, lines: []) == .stale)
        #expect(try records.completeAttempt(second.attemptID, result: Data(), outputPath: "x") == .accepted)
        #expect(try records.completeAttempt(second.attemptID, result: Data(), outputPath: "x") == .stale, "a duplicate")
    }

    @Test func aWorkerThatLeftIsGoneAndOneThatFellSilentIsLost() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        for id in ["left", "silent"] { try records.workerSeen(id: id, name: id, threads: 1, publicKey: nil) }
        _ = try records.workerLost("left", cause: .workerLeft)
        _ = try records.workerLost("silent", cause: .workerLost)
        let states = try records.database.read { try [String: String](uniqueKeysWithValues: Row.fetchAll($0, sql: "SELECT id, state FROM worker").map { ($0["id"], $0["state"]) }) }
        #expect(states == ["left": "gone", "silent": "lost"])
    }

    @Test func aTaskFailsItsJobAfterTheMaximumFailures() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir, maximumFailures: 2)
        let job = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: Array(try sweep().prefix(1)))
        let a = try #require(try records.leaseNextTask(to: "w1"))
        #expect(try records.endAttempt(a.attemptID, .failed(retryable: true), reason: "out of memory") == .requeued)
        let b = try #require(try records.leaseNextTask(to: "w2"))
        #expect(try records.endAttempt(b.attemptID, .failed(retryable: true), reason: "out of memory").isFailedPermanently)
        #expect(try records.job(job)?.state == .failed)
        #expect(try records.job(job)?.reason?.contains("failed 2 times: out of memory") == true)
        #expect(try records.failures(ofWorker: "w1", inJob: job) == 1)
    }

    // Faults are normal: losses caused by the infrastructure never use the failure budget.
    @Test func lostAttemptsDoNotCountAsFailures() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir, maximumFailures: 1)
        let job = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: Array(try sweep().prefix(1)))
        for (i, cause) in [LossCause.workerLost, .handedBack, .workerLeft, .gangCancelled, .workerLost].enumerated() {
            let lease = try #require(try records.leaseNextTask(to: "w\(i)"))
            if cause == .workerLost {
                #expect(try records.workerLost("w\(i)", cause: cause) == [.requeued])
            } else {
                #expect(try records.endAttempt(lease.attemptID, .lost(cause), reason: "") == .requeued)
            }
        }
        #expect(try records.job(job)?.state == .running)
        try finishAll(records, job: job)
        #expect(try records.job(job)?.state == .succeeded)
    }

    @Test func aTaskLostMoreThanItsLossBudgetFailsItsJob() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir, losses: 3)
        let job = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: try sweep())
        var outcomes: [FarmRecords.FailureOutcome] = []
        for _ in 0..<3 {
            let lease = try #require(try records.leaseNextTask(to: "w1"))
            #expect(lease.key == "gamma=0")
            outcomes.append(try records.endAttempt(lease.attemptID, .lost(.workerLost), reason: ""))
        }
        #expect(outcomes.prefix(2) == [.requeued, .requeued] && outcomes[2].isFailedPermanently)
        #expect(try records.job(job)?.state == .failed)
        // A failed job's other tasks do not stay ready for ever.
        #expect(try records.tasks(ofJob: job).map(\.state) == ["failed", "cancelled", "cancelled"])
        #expect(try records.leaseNextTask(to: "w2") == nil)
    }

    @Test func anUndeliveredAssignmentIsNotAnAttempt() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir, maximumFailures: 1, losses: 1)
        let job = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: Array(try sweep().prefix(1)))
        for _ in 0..<10 {
            let lease = try #require(try records.leaseNextTask(to: "gone"))
            #expect(try records.endAttempt(lease.attemptID, .undelivered, reason: "worker unreachable") == .requeued)
        }
        #expect(try records.tasks(ofJob: job).first?.attempts == 0)
        try finishAll(records, job: job)
        #expect(try records.job(job)?.state == .succeeded)
    }

    @Test func aLostTaskBacksOffBeforeItsNextAttempt() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir, backoff: 60)
        _ = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: Array(try sweep().prefix(1)))
        let first = try #require(try records.leaseNextTask(to: "w1"))
        _ = try records.endAttempt(first.attemptID, .lost(.workerLost), reason: "")
        let second = try #require(try records.leaseNextTask(to: "w1"), "no back-off after the first loss")
        _ = try records.endAttempt(second.attemptID, .lost(.workerLost), reason: "")
        #expect(try records.leaseNextTask(to: "w1") == nil, "a minute's back-off after the second")
    }

    @Test func aResultThatArrivedIsNotMadeStaleByItsWorkerLeaving() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        _ = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: try sweep())
        let lease = try #require(try records.leaseNextTask(to: "w1"))
        #expect(try records.transaction { try $0.markReceived(lease.attemptID) } == .accepted)
        #expect(try records.workerLost("w1", cause: .workerLeft) == [], "its result is being written")
        #expect(try records.completeAttempt(lease.attemptID, result: Data(), outputPath: "x") == .accepted)
    }

    @Test func aRestartChargesTheLossBudget() throws {
        let dir = try TemporaryDirectory()
        var job = ""
        for restart in 0..<3 {
            let records = try open(dir, losses: 3)
            if restart == 0 {
                job = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: Array(try sweep().prefix(1)))
            } else {
                _ = try records.recoverAfterRestart()
            }
            _ = try records.leaseNextTask(to: "w\(restart)")
        }
        let records = try open(dir, losses: 3)
        #expect(try records.recoverAfterRestart() == 0)
        #expect(try records.job(job)?.state == .failed, "the third loss is over a budget of 3 losses")
        #expect(try records.tasks(ofJob: job).first?.attempts == 3)
    }

    @Test func afterARestartFinishedTasksStayFinishedAndLeasedOnesReturn() throws {
        let dir = try TemporaryDirectory()
        let job: String
        do {
            let records = try open(dir)
            job = try records.createJob(kind: "sweep", spec: Data(#"{"gammas":[0,0.5,1]}"#.utf8), priority: 0, tasks: try sweep())
            let done = try #require(try records.leaseNextTask(to: "w1"))
            _ = try records.completeAttempt(done.attemptID, result: Data(), outputPath: "gamma-0.png")
            _ = try records.leaseNextTask(to: "w2")   // in flight when the coordinator dies
        }
        let reopened = try open(dir)
        #expect(try reopened.recoverAfterRestart() == 1)
        #expect(try reopened.tasks(ofJob: job).map(\.state) == ["done", "ready", "ready"])
        #expect(try reopened.jobSpec(job) == Data(#"{"gammas":[0,0.5,1]}"#.utf8))
        var leased: [String] = []
        while let lease = try reopened.leaseNextTask(to: "w3") {
            leased.append(lease.key)
            _ = try reopened.completeAttempt(lease.attemptID, result: Data(), outputPath: lease.outputName)
        }
        #expect(leased == ["gamma=0.5", "gamma=1"], "the finished task is not rendered again")
        #expect(try reopened.job(job)?.state == .finishing)
    }

    @Test func higherPriorityJobsGoFirstAndCancelledJobsStop() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        let low = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: try sweep())
        let high = try records.createJob(kind: "sweep", spec: Data(), priority: 5, tasks: try sweep())
        #expect(try records.leaseNextTask(to: "w1")?.jobID == high)
        #expect(try records.cancelJob(high)?.count == 1, "its one running attempt is cancelled")
        #expect(try records.leaseNextTask(to: "w1")?.jobID == low)
        #expect(try records.leaseNextTask(to: "w1", excludingJobs: [low]) == nil)
    }

    @Test func runningTasksShowTheirLatestIteration() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        let job = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: try sweep())
        let lease = try #require(try records.leaseNextTask(to: "w1"))
        _ = try records.recordProgress(attempt: lease.attemptID, lines: [
            .init(iteration: 0, total: 9, content: 0, styles: [1, 2], tv: 0, elapsed: 0),
            .init(iteration: 7, total: 5, content: 1, styles: [1, 1], tv: 0, elapsed: 3.5),
        ])
        let running = try records.runningTasks(ofJob: job)
        #expect(running == [.init(key: "gamma=0", worker: "w1", iteration: 7, iterations: 500, elapsed: 3.5)])
    }
}

/// Exact jobs' shards run as a gang: one that finished cannot stay finished when another is lost.
struct ExactGangRecordsTests {
    @Test func aShardThatFinishedRunsAgainWhenItsGangLosesAnother() throws {
        let dir = try TemporaryDirectory()
        let records = try FarmRecords(path: dir.path("farm.sqlite"), budget: .init(backoffBase: 0))
        let request = RenderRequest(contentPath: "blob:c", stylePaths: ["blob:s"])
        let shards = (1...2).map { PlannedTask(key: "shard-\($0)", kind: .shard, parameters: [], request: request, dependsOn: [],
                                               outputName: "shards/shard-\($0).png") }
        let job = try records.createJob(kind: "tiled", spec: Data("{}".utf8), priority: 0, tasks: shards)
        let attempts = try records.transaction { tx in
            try tx.runnableShards()[job, default: []].map { try tx.recordAttempt($0, by: "w\($0.key)") }
        }
        #expect(attempts.count == 2)
        #expect(try records.completeAttempt(attempts[0], result: Data(), outputPath: "a") == .accepted)
        #expect(try records.endAttempt(attempts[1], .lost(.workerLost), reason: "") == .requeued)
        // What the coordinator finds: one shard ready, one done, none running.
        #expect(try records.transaction { tx in try tx.runnableShards()[job]?.count } == 1)
        #expect(try records.transaction { tx in try tx.shardsRunning(ofJob: job) } == 0)
        #expect(try records.transaction { tx in try tx.reopenShards(ofJob: job, stage: 1) } == 1)
        #expect(try records.transaction { tx in try tx.runnableShards()[job]?.count } == 2, "the gang can be leased whole again")
        let outcomes = try records.transaction { tx in try attempts.map { try tx.outcome(ofAttempt: $0) } }
        #expect(outcomes == ["lost", "lost"], "no shard keeps a success its gang does not share")
    }
}

/// An exact job's checkpoints: one row per shard, complete once every shard's is in.
struct ExactCheckpointRecordsTests {
    func exactJob(_ records: FarmRecords) throws -> String {
        let request = RenderRequest(contentPath: "blob:c", stylePaths: ["blob:s"])
        let shards = (1...2).map { PlannedTask(key: "shard-\($0)", kind: .shard, parameters: [], request: request, dependsOn: [],
                                               outputName: "shards/shard-\($0).png") }
        return try records.createJob(kind: "tiled", spec: Data("{}".utf8), priority: 0, tasks: shards)
    }

    func sha(_ n: Int) -> String { String(repeating: String(n % 10), count: 64) }

    @Test func aCheckpointIsCompleteOnlyOnceEveryShardIsStoredAndThenReplacesTheOlderOne() throws {
        let dir = try TemporaryDirectory()
        let records = try FarmRecords(path: dir.path("farm.sqlite"))
        let job = try exactJob(records)
        #expect(try records.latestCheckpoint(ofJob: job) == nil)
        #expect(try records.recordCheckpoint(job: job, iteration: 10, shardIndex: 1, shardCount: 2, sha256: sha(1), bytes: 100)
                == .waiting(stored: 1, of: 2))
        #expect(try records.latestCheckpoint(ofJob: job) == nil, "one shard of two is no checkpoint")
        #expect(try records.recordCheckpoint(job: job, iteration: 10, shardIndex: 0, shardCount: 2, sha256: sha(2), bytes: 50)
                == .complete(dropped: []))
        let first = try #require(try records.latestCheckpoint(ofJob: job))
        #expect(first.iteration == 10 && first.shardCount == 2 && first.bytes == 150)
        #expect(first.shards.map(\.sha256) == [sha(2), sha(1)], "by shard index")

        // The next iteration: the older one stays the latest until it is complete, then goes.
        #expect(try records.recordCheckpoint(job: job, iteration: 20, shardIndex: 0, shardCount: 2, sha256: sha(3), bytes: 50)
                == .waiting(stored: 1, of: 2))
        #expect(try records.latestCheckpoint(ofJob: job)?.iteration == 10)
        // Shard 1's state did not change: its blob is shared with iteration 10 and must not be dropped.
        #expect(try records.recordCheckpoint(job: job, iteration: 20, shardIndex: 1, shardCount: 2, sha256: sha(1), bytes: 100)
                == .complete(dropped: [sha(2)]))
        #expect(try records.latestCheckpoint(ofJob: job)?.iteration == 20)
        let rows = try DatabaseQueue(path: dir.path("farm.sqlite")).read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM exact_checkpoint WHERE job_id = ?", arguments: [job])
        }
        #expect(rows == 2, "only the latest complete checkpoint is kept")
    }

    @Test func aNewGangDropsTheRowsOfAnIterationItsPredecessorDidNotFinish() throws {
        let dir = try TemporaryDirectory()
        let records = try FarmRecords(path: dir.path("farm.sqlite"))
        let job = try exactJob(records)
        for index in 0..<2 {
            _ = try records.recordCheckpoint(job: job, iteration: 5, shardIndex: index, shardCount: 2, sha256: sha(index), bytes: 8)
        }
        _ = try records.recordCheckpoint(job: job, iteration: 10, shardIndex: 0, shardCount: 2, sha256: sha(7), bytes: 8)
        #expect(try records.transaction { try $0.dropIncompleteCheckpoints(ofJob: job) } == [sha(7)])
        #expect(try records.latestCheckpoint(ofJob: job)?.iteration == 5, "the complete one stays")
        // A shard of the new gang saving iteration 10 again does not complete it with the old row.
        #expect(try records.recordCheckpoint(job: job, iteration: 10, shardIndex: 1, shardCount: 2, sha256: sha(8), bytes: 8)
                == .waiting(stored: 1, of: 2))
        #expect(try records.transaction { try $0.dropCheckpoints(ofJob: job) }.sorted() == [sha(0), sha(1), sha(8)])
        #expect(try records.latestCheckpoint(ofJob: job) == nil)
    }

    @Test func theCheckpointTableComesWithTheMigrationsAndGoesWithItsJob() throws {
        let dir = try TemporaryDirectory()
        let records = try FarmRecords(path: dir.path("farm.sqlite"))
        let job = try exactJob(records)
        _ = try records.recordCheckpoint(job: job, iteration: 1, shardIndex: 0, shardCount: 1, sha256: sha(1), bytes: 1)
        let queue = try DatabaseQueue(path: dir.path("farm.sqlite"))
        let applied = try queue.read { try FarmRecords.migrator.appliedIdentifiers($0) }
        #expect(applied.contains("v6-exact-checkpoints"))
        try queue.write { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "DELETE FROM job WHERE id = ?", arguments: [job])
        }
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM exact_checkpoint") } == 0)
    }
}

/// A coarse-to-fine exact job: restarts and checkpoints of one stage's gang never touch another stage.
struct ExactStageRecordsTests {
    let request = RenderRequest(contentPath: "blob:c", stylePaths: ["blob:s"])

    func sha(_ n: Int) -> String { String(repeating: String(n % 10), count: 64) }

    /// Two stages of two shards each (`shard-1-k`, then `shard-k`), as the planner keys them.
    func twoStageJob(_ records: FarmRecords) throws -> String {
        var tasks: [PlannedTask] = []
        for stage in 1...2 {
            for index in 0..<2 {
                let key = stage == 2 ? "shard-\(index + 1)" : "shard-1-\(index + 1)"
                let order = ShardOrder(render: request, outputWidth: 64 * stage, outputHeight: 64 * stage, tile: 32, halo: nil,
                                       shardIndex: index, shardCount: 2, styleTargetsPath: "blob:t", stage: stage)
                tasks.append(try PlannedTask(key: key, kind: .shard, parameters: [], request: request,
                                             dependsOn: stage == 2 ? ["shard-1-1", "shard-1-2"] : [], outputName: "shards/\(key).png",
                                             order: .shard(order)))
            }
        }
        return try records.createJob(kind: "tiled", spec: Data("{}".utf8), priority: 0, tasks: tasks)
    }

    func states(_ records: FarmRecords, _ job: String) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try records.tasks(ofJob: job).map { ($0.key, $0.state) })
    }

    @Test func aLostShardOfStageTwoReopensOnlyStageTwosShards() throws {
        let dir = try TemporaryDirectory()
        let records = try FarmRecords(path: dir.path("farm.sqlite"), budget: .init(backoffBase: 0))
        let job = try twoStageJob(records)
        func leaseGang() throws -> [Int64] {
            try records.transaction { tx in try tx.runnableShards()[job, default: []].map { try tx.recordAttempt($0, by: "w\($0.key)") } }
        }
        let first = try leaseGang()
        #expect(first.count == 2, "only stage 1 is runnable: stage 2 waits for it")
        for attempt in first { #expect(try records.completeAttempt(attempt, result: Data(), outputPath: "a") == .accepted) }
        let second = try leaseGang()
        #expect(second.count == 2)
        #expect(try records.completeAttempt(second[0], result: Data(), outputPath: "b") == .accepted)
        #expect(try records.endAttempt(second[1], .lost(.workerLost), reason: "") == .requeued)

        #expect(try records.transaction { tx in try tx.reopenShards(ofJob: job, stage: 2) } == 1, "stage 2's finished shard")
        let after = try states(records, job)
        #expect(after["shard-1-1"] == "done" && after["shard-1-2"] == "done", "stage 1 stays finished: \(after)")
        #expect(after["shard-1"] == "ready" && after["shard-2"] == "ready", "\(after)")
        #expect(try records.transaction { tx in try tx.reopenShards(ofJob: job, stage: 1) } == 2,
                "the same query does reopen stage 1 when asked: the filter is what keeps it finished")
    }

    @Test func aCheckpointResumesOnlyTheStageThatSavedIt() throws {
        let dir = try TemporaryDirectory()
        let records = try FarmRecords(path: dir.path("farm.sqlite"))
        let job = try twoStageJob(records)
        for index in 0..<2 {
            _ = try records.recordCheckpoint(job: job, stage: 1, iteration: 10, shardIndex: index, shardCount: 2, sha256: sha(index), bytes: 8)
        }
        #expect(try records.latestCheckpoint(ofJob: job, stage: 1)?.iteration == 10)
        #expect(try records.latestCheckpoint(ofJob: job, stage: 2) == nil, "stage 2's gang has nothing to resume from")
        // Stage 2 saving the same iteration with the same shard count does not complete with stage 1's rows.
        #expect(try records.recordCheckpoint(job: job, stage: 2, iteration: 10, shardIndex: 0, shardCount: 2, sha256: sha(5), bytes: 8)
                == .waiting(stored: 1, of: 2))
        #expect(try records.latestCheckpoint(ofJob: job, stage: 1)?.shards.map(\.sha256) == [sha(0), sha(1)], "stage 1's row was not overwritten")
        let progress = try records.recordCheckpoint(job: job, stage: 2, iteration: 10, shardIndex: 1, shardCount: 2, sha256: sha(6), bytes: 8)
        guard case .complete(let dropped) = progress else {
            Issue.record("stage 2's second shard completes its checkpoint: \(progress)")
            return
        }
        #expect(dropped.sorted() == [sha(0), sha(1)], "stage 1's checkpoint goes once stage 2 has one")
        let latest = try #require(try records.latestCheckpoint(ofJob: job))
        #expect(latest.stage == 2 && latest.shards.map(\.sha256) == [sha(5), sha(6)])
        #expect(try records.latestCheckpoint(ofJob: job, stage: 1) == nil)
    }
}
