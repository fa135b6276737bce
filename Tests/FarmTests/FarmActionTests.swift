import Foundation
import GRDB
import Testing
import TestSupport
import Farm
import Protocol

/// Operator actions on a real farm (issue 12): a job's priority, a worker blocked for a job
/// (by an operator, or by the coordinator after repeated failures), a drained worker, through
/// the CLI; the same actions over HTTP need the token.
@Suite(.serialized)
struct FarmActionTests {
    /// The status document, as `stylefarm status` prints it.
    static func status(_ farm: FarmHarness, job: String? = nil) throws -> FarmStatusDocument {
        let (code, output) = try farm.run(["status"] + (job.map { [$0] } ?? []) + ["--coordinator", farm.endpoint])
        guard code == 0 else { throw TestFailure("status failed: \(output)") }
        return try JSONDecoder().decode(FarmStatusDocument.self, from: Data(output.utf8))
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: Double = 60, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    /// Every attempt, oldest first: its job, worker session and outcome.
    static func attempts(_ farm: FarmHarness) throws -> [(job: String, worker: String, outcome: String)] {
        try DatabaseQueue(path: farm.data + "/farm.sqlite").read { db in
            try Row.fetchAll(db, sql: "SELECT t.job_id, a.worker_id, a.outcome FROM attempt a JOIN task t ON t.id = a.task_id ORDER BY a.id")
                .map { ($0["job_id"], $0["worker_id"], $0["outcome"]) }
        }
    }

    @Test func raisingAJobsPriorityLeasesItsTasksFirst() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let first = try farm.submitSweep(gamma: "0:1:0.5", iterations: 2)
        let second = try farm.submitSweep(gamma: "0:1:0.5", iterations: 2)
        let raised = try farm.run(["priority", second, "10", "--coordinator", farm.endpoint])
        #expect(raised.status == 0 && raised.output.contains("priority 10"), "\(raised.output)")
        #expect(try Self.status(farm, job: second).jobs.first?.priority == 10)
        let unknown = try farm.run(["priority", "no-such-job", "1", "--coordinator", farm.endpoint])
        #expect(unknown.status != 0 && unknown.output.contains("no job no-such-job"), "\(unknown.output)")
        // Without the change the older job would go first (same priority, oldest first).
        try farm.startWorkers(1)
        #expect(try farm.wait(second).status == 0)
        #expect(try farm.wait(first).status == 0)
        let order = try Self.attempts(farm).map(\.job)
        #expect(order == [second, second, second, first, first, first], "\(order)")
        let finished = try farm.run(["priority", first, "3", "--coordinator", farm.endpoint])
        #expect(finished.status != 0 && finished.output.contains("succeeded"), "a finished job keeps its priority: \(finished.output)")
    }

    @Test func aBlockedWorkerGetsNoTaskOfTheJobWhileAnotherDoes() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(1, name: "w0")
        // w0 busy with a long render, so that the job below waits in the queue.
        let long = try farm.submitSweep(gamma: "0.5", iterations: 100_000)
        #expect(try Self.eventually { try Self.status(farm, job: long).jobs.first?.count(.leased) == 1 })
        let job = try farm.submitSweep(gamma: "0:1:0.5", iterations: 2)
        let blocked = try farm.run(["block", job, "w0", "--coordinator", farm.endpoint])
        #expect(blocked.status == 0 && blocked.output.contains("no more tasks"), "\(blocked.output)")
        #expect(try farm.run(["cancel", long, "--coordinator", farm.endpoint]).status == 0)
        // w0 is free and blocked: the job waits, and says why rather than hanging silently.
        let waits = try Self.eventually {
            try Self.status(farm, job: job).jobs.first?.waiting?.contains("every connected worker is blocked for it: w0") == true
        }
        let waiting = try Self.status(farm, job: job).jobs.first?.waiting
        #expect(waits, "\(String(describing: waiting))")
        let document = try Self.status(farm)
        #expect(document.jobs.first { $0.id == job }?.blockedWorkers == ["w0"])
        #expect(document.jobs.first { $0.id == job }?.blockReasons?["w0"]?.hasPrefix("blocked by") == true)
        #expect(document.workers.first?.blockedJobs == [job] && document.workers.first?.draining == false)
        #expect(try Self.attempts(farm).filter { $0.job == job }.isEmpty)

        try farm.startWorkers(1, name: "w1")
        let (code, output) = try farm.wait(job, timeout: 120)
        #expect(code == 0, "\(output)")
        let workers = try Self.attempts(farm).filter { $0.job == job }.map(\.worker)
        #expect(workers.count == 3 && workers.allSatisfy { $0.hasPrefix("w1-") }, "\(workers)")
        #expect(try farm.run(["block", job, "w0", "--undo", "--coordinator", farm.endpoint]).output.contains("again"))
        #expect(try farm.run(["block", job, "nobody", "--coordinator", farm.endpoint]).status != 0)
    }

    @Test func aWorkerThatKeepsFailingAJobsTasksIsBlockedForIt() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let flaky = try RawPeer(farm.endpoint)
        _ = try flaky.join(as: "flaky")
        let job = try farm.submitSweep(gamma: "0:1:0.5", iterations: 2)
        try flaky.send(.ready(Ready(credit: 1)))
        // It fails every task it is given. A window, not an event: what is checked is that no
        // third task comes (without blocking, its third failure of the same task would fail
        // the job). It heartbeats throughout, so its session stays alive.
        var assigned = 0
        let window = Date().addingTimeInterval(5)
        while Date() < window {
            try flaky.send(.heartbeat(Heartbeat()))
            guard case .assign(let assignment)? = try flaky.receive(timeout: .milliseconds(100)) else { continue }
            assigned += 1
            try flaky.send(.failure(TaskFailure(taskID: assignment.taskID, attemptID: assignment.attemptID,
                                                reason: "deliberately broken", retryable: true)))
            try flaky.send(.ready(Ready(credit: 1, holding: [], lastAssignment: assignment.attemptID)))
        }
        #expect(assigned == 2, "blocked after its second failure in the job (the default --block-after-failures)")
        let block = try DatabaseQueue(path: farm.data + "/farm.sqlite").read {
            try Row.fetchOne($0, sql: "SELECT worker_name, reason, blocked_by, automatic FROM worker_block WHERE job_id = ?", arguments: [job])
        }
        let name: String? = block?["worker_name"], by: String? = block?["blocked_by"], reason: String? = block?["reason"]
        let automatic: Bool? = block?["automatic"]
        #expect(name == "flaky" && automatic == true && by == "automatic")
        #expect(reason?.contains("failed 2 of the job's tasks") == true, "\(String(describing: reason))")
        try flaky.send(.heartbeat(Heartbeat()))
        let document = try Self.status(farm)
        let status = try #require(document.jobs.first { $0.id == job })
        #expect(status.state == .running && status.blockedWorkers == ["flaky"], "the job waits, it does not fail: \(status)")
        #expect(status.waiting?.contains("blocked") == true, "\(String(describing: status.waiting))")
        let worker = document.workers.first { $0.name == "flaky" }
        #expect(worker?.failures == 2 && worker?.blockedJobs == [job], "\(String(describing: worker))")

        try farm.startWorkers(1)
        let (code, output) = try farm.wait(job, timeout: 120)
        #expect(code == 0, "\(output)")
    }

    @Test func aDrainedWorkerFinishesItsTaskGetsNoMoreAndStaysDrainedAfterARestart() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(1, name: "w0")
        let job = try farm.submitSweep(gamma: "0:1:1", iterations: 120)
        #expect(try Self.eventually { try Self.attempts(farm).count == 1 })
        let drained = try farm.run(["drain", "w0", "--coordinator", farm.endpoint])
        #expect(drained.status == 0 && drained.output.contains("no new ones"), "\(drained.output)")
        #expect(try Self.eventually(timeout: 120) { try Self.attempts(farm).first?.outcome == "succeeded" }, "it finishes its task")
        // A window for an absence: no second task within two seconds of the first ending.
        Thread.sleep(forTimeInterval: 2)
        #expect(try Self.attempts(farm).count == 1)
        let document = try Self.status(farm)
        #expect(document.workers.first?.draining == true)
        #expect(document.jobs.first?.waiting?.contains("draining: w0") == true, "\(String(describing: document.jobs.first?.waiting))")
        #expect(try farm.run(["workers", "--coordinator", farm.endpoint]).output.contains("draining"))

        // Restarted on the same port: the worker rejoins, still drained.
        let coordinator = try #require(farm.coordinator)
        coordinator.terminate()
        coordinator.waitUntilExit()
        let port = Int(farm.endpoint.split(separator: ":").last ?? "") ?? 0
        try farm.startCoordinator(port: port)
        #expect(try Self.eventually { try Self.status(farm).workers.first?.draining == true }, "the drain outlives the restart")
        Thread.sleep(forTimeInterval: 2)
        let after = try Self.attempts(farm)
        #expect(after.count == 1, "\(after)")

        let undone = try farm.run(["drain", "w0", "--undo", "--coordinator", farm.endpoint])
        #expect(undone.status == 0 && undone.output.contains("gets tasks again"), "\(undone.output)")
        let (code, output) = try farm.wait(job, timeout: 180)
        #expect(code == 0, "\(output)")
    }
}
