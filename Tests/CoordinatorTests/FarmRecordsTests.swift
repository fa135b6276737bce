import Foundation
import Testing
import Protocol
import TestSupport
@testable import Coordinator
import Engine

/// The records on a real SQLite file (WAL), reopened where a restart matters.
struct FarmRecordsTests {
    func sweep(balance: SweepSpec.Balance = .off) throws -> [PlannedTask] {
        try SweepPlanner.plan(SweepSpec(base: RenderRequest(contentPath: "c.png", stylePaths: ["a.png", "b.png"]),
                                        gammas: [0, 0.5, 1], balance: balance))
    }

    func open(_ dir: TemporaryDirectory, maximumAttempts: Int = 3) throws -> FarmRecords {
        try FarmRecords(path: dir.path("farm.sqlite"), maximumAttempts: maximumAttempts)
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
        #expect(try records.job(job)?.state == "succeeded")
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
        #expect(try records.workerLost("w1", reason: "silent for 3 heartbeats") == 1)
        let second = try #require(try records.leaseNextTask(to: "w2"))
        #expect(second.taskID == first.taskID && second.attemptID != first.attemptID)
        // The lost worker comes back with its result: fenced off.
        #expect(try records.completeAttempt(first.attemptID, result: Data(), outputPath: "x") == .stale)
        #expect(try records.recordProgress(attempt: first.attemptID, lines: []) == .stale)
        #expect(try records.completeAttempt(second.attemptID, result: Data(), outputPath: "x") == .accepted)
        #expect(try records.completeAttempt(second.attemptID, result: Data(), outputPath: "x") == .stale, "a duplicate")
    }

    @Test func aTaskFailsItsJobAfterTheMaximumAttempts() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir, maximumAttempts: 2)
        let job = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: Array(try sweep().prefix(1)))
        let a = try #require(try records.leaseNextTask(to: "w1"))
        #expect(try records.failAttempt(a.attemptID, reason: "out of memory", retryable: true) == .requeued)
        let b = try #require(try records.leaseNextTask(to: "w2"))
        #expect(try records.failAttempt(b.attemptID, reason: "out of memory", retryable: true) == .failedPermanently)
        #expect(try records.job(job)?.state == "failed")
        #expect(try records.job(job)?.reason?.contains("after 2 attempts: out of memory") == true)
        #expect(try records.failures(ofWorker: "w1", inJob: job) == 1)
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
        #expect(try reopened.job(job)?.state == "succeeded")
    }

    @Test func higherPriorityJobsGoFirstAndCancelledJobsStop() throws {
        let dir = try TemporaryDirectory()
        let records = try open(dir)
        let low = try records.createJob(kind: "sweep", spec: Data(), priority: 0, tasks: try sweep())
        let high = try records.createJob(kind: "sweep", spec: Data(), priority: 5, tasks: try sweep())
        #expect(try records.leaseNextTask(to: "w1")?.jobID == high)
        #expect(try records.cancelJob(high))
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
