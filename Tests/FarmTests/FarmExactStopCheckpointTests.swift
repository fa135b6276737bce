import Foundation
import GRDB
import Testing
import TestSupport
import Engine
import Farm
import Protocol

/// What a hand worker announces to take part in checkpoints on stop.
private let stopCapable = WorkerCapability.allCases.map(\.rawValue) + [ShardExchange.checkpointOnStopCapability]

/// The coordinator's side of a checkpoint on stop, with hand-driven workers: a member's request
/// goes to every member in that round's answers, or to none.
@Suite(.serialized)
struct FarmExactStopRequestTests {
    /// The submission and gang helpers of the checkpoint tests (same job, same two shards).
    let checkpoints = FarmExactCheckpointTests()
    let noStrips = ExactExchangeCodec.encode([])

    /// Sends one round from both shards (shard `asking` with the request) and returns the answers' requests by shard.
    func round(_ shards: [Int: (HandWorker, TaskAssignment)], step: Int, phase: ExchangePhase = .pixels, bytes: (Int) throws -> [UInt8],
               asking: Int?) throws -> [Int: Bool?] {
        for index in [0, 1] {
            let (worker, assignment) = try #require(shards[index])
            try worker.exchange(assignment, step: step, phase: phase, bytes: try bytes(index), checkpointRequested: index == asking ? true : nil)
        }
        var requests: [Int: Bool?] = [:]
        for index in [0, 1] {
            let (worker, assignment) = try #require(shards[index])
            let reply = try #require(try worker.exchanged(), "shard \(index + 1) is answered at step \(step)")
            #expect(reply.attemptID == assignment.attemptID && reply.step == step && reply.phase == phase)
            requests[index] = reply.checkpointRequested
        }
        return requests
    }

    @Test func aStoppingShardsRequestGoesToEveryShardInThatRoundsAnswersOnly() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(heartbeatMilliseconds: 1000)
        _ = try checkpoints.submitExact(farm)
        let a = try HandWorker(farm, name: "a", capabilities: stopCapable), b = try HandWorker(farm, name: "b", capabilities: stopCapable)
        #expect(a.welcome.checkpointsOnStop == true && b.welcome.checkpointsOnStop == true)
        let shards = try checkpoints.gang(farm, a, b)

        #expect(try round(shards, step: 0, bytes: { _ in noStrips }, asking: 1) == [0: true, 1: true], "both shards are asked")
        #expect(try round(shards, step: 1, bytes: { _ in noStrips }, asking: nil) == [0: nil, 1: nil], "once: the next round asks nothing")
        // A checkpoint round's answer ends the stopping shard's task anyway: a request there is not passed on.
        let saved = try round(shards, step: 2, phase: .checkpoint, bytes: { try FarmExactCheckpointTests.checkpoint(iteration: 1, index: $0) },
                              asking: 0)
        #expect(saved == [0: nil, 1: nil])
        #expect(farm.log("coordinator").contains("exact gang checkpoints at the end of this iteration"))
    }

    @Test func aRequestIsNotPassedOnWhenAMemberPredatesIt() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(heartbeatMilliseconds: 1000)
        _ = try checkpoints.submitExact(farm)
        let a = try HandWorker(farm, name: "a", capabilities: stopCapable), old = try HandWorker(farm, name: "old")
        #expect(old.welcome.checkpointsOnStop == nil, "an older worker never sees the key")
        let shards = try checkpoints.gang(farm, a, old)
        let asking = try #require(shards.first { $0.value.0 === a }?.key)
        #expect(try round(shards, step: 0, bytes: { _ in noStrips }, asking: asking) == [0: nil, 1: nil],
                "no shard is asked: the older one would not save, and the gang's shards must save together or not at all")
        #expect(farm.log("coordinator").contains("another member predates the request"))
    }
}

/// Real workers: one is sent SIGTERM in the middle of an exact Adam job whose periodic
/// checkpoints never come (`--checkpoint-every` beyond the iterations).
@Suite(.serialized)
struct FarmExactStopCheckpointTests {
    static let iterations = 30

    func options(_ farm: FarmHarness) -> [String] {
        ["--content", farm.samples.content, "--style", farm.samples.style1, "--init", "content", "--optimizer", "adam", "--lr", "1",
         "--iterations", String(Self.iterations), "--style-layers", "block1_relu1,block2_relu1", "--size", "128", "--tile", "64",
         "--mode", "exact", "--shards", "2", "--bit-depth", "16", "--checkpoint-every", "1000"]
    }

    func submit(_ farm: FarmHarness) throws -> String {
        let (status, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint] + options(farm))
        #expect(status == 0, "\(output)")
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The worker process behind a worker id ("w1-…" is `farm.workers[1]`).
    static func process(of workerID: String, in farm: FarmHarness) throws -> (index: Int, process: Process) {
        let index = try #require(workerID.split(separator: "-").first.flatMap { Int($0.dropFirst()) })
        return (index, try #require(farm.workers.indices.contains(index) ? farm.workers[index] : nil))
    }

    @Test func aWorkerStoppedDuringAShardHandsItBackAfterItsGangsCheckpointAndTheGangResumesThere() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(3)
        let job = try submit(farm)
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")

        // Both shards running and past iteration 3: signal one shard's worker.
        var running: [(worker: String, iteration: Int)] = []
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            running = try db.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT a.worker_id AS worker, MAX(l.iteration) AS iteration FROM attempt a JOIN task t ON t.id = a.task_id
                    JOIN loss_line l ON l.attempt_id = a.id
                    WHERE t.job_id = ? AND t.kind = 'shard' AND a.outcome = 'running' GROUP BY a.id
                    """, arguments: [job]).map { ($0["worker"], $0["iteration"]) }
            }
            if running.count == 2, running.allSatisfy({ $0.iteration >= 3 }) { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try #require(running.count == 2 && running.allSatisfy { $0.iteration >= 3 }, "both shards ran 3 iterations: \(running)")
        let signalledAt = running.map(\.iteration).min() ?? 0
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM exact_checkpoint WHERE job_id = ?", arguments: [job]) } == 0,
                "no periodic checkpoint before the signal")
        let victim = try Self.process(of: running[0].worker, in: farm)
        kill(victim.process.processIdentifier, SIGTERM)
        #expect(farm.waitForExit(victim.process, timeout: .seconds(60)), "the stopped worker leaves")
        #expect(victim.process.terminationStatus == 0)
        let victimLog = farm.log("worker-\(victim.index)")
        #expect(victimLog.contains("stopping after the gang's checkpoint") && !victimLog.contains("within the grace period"), "\(victimLog)")

        let (status, waited) = try farm.wait(job)
        #expect(status == 0, "\(waited)\n\(farm.log("coordinator"))")
        let log = farm.log("coordinator")
        #expect(log.contains("exact gang checkpoints at the end of this iteration: a member is stopping"), "\(log)")
        // The gang resumed from the checkpoint the signal asked for: past the iterations seen
        // before it (there was no other), and before the end.
        let line = try #require(log.split(separator: "\n").first { $0.contains("exact gang resumes from checkpoint") }, "\(log)")
        let iteration = try #require(line.firstRange(of: "iteration=").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) })
        #expect(iteration >= signalledAt && iteration > 0 && iteration < Self.iterations, "resumed at \(iteration), signalled at \(signalledAt)")
        // The stopped shard was handed back after the checkpoint was recorded, not cancelled.
        let reasons = try db.read { db in
            try String.fetchAll(db, sql: "SELECT COALESCE(reason, '') FROM attempt WHERE worker_id = ? AND outcome != 'succeeded'",
                                arguments: [running[0].worker])
        }
        #expect(reasons.contains { $0.contains("the gang's checkpoint of step") }, "\(reasons)")
        // The resumed attempts' loss logs start at that iteration: no step before it was redone.
        let firstLines = try db.read { db in
            try Int.fetchAll(db, sql: """
                SELECT MIN(l.iteration) FROM loss_line l JOIN attempt a ON a.id = l.attempt_id JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND t.kind = 'shard' AND a.outcome = 'succeeded' GROUP BY a.id
                """, arguments: [job])
        }
        #expect(firstLines == [iteration, iteration], "each succeeded shard's log starts at the checkpoint: \(firstLines)")

        // The same job uninterrupted, on the two workers left: the same image within 2/255
        // (both 16-bit; the gang continued from bit-identical state, so only the float
        // summation order on other workers may differ).
        let reference = try submit(farm)
        #expect(try farm.wait(reference).status == 0)
        try farm.expectOutputsAgree(job, reference)
    }

    /// A real worker whose shard's gang partner is a hand worker that never sends a round: no
    /// checkpoint can come. Returns once the real worker runs its shard (its log says so).
    func shardThatCannotCheckpoint(grace: Int) throws -> (farm: FarmHarness, worker: Process, partner: HandWorker, job: String) {
        let farm = try FarmHarness()
        try farm.startCoordinator(heartbeatMilliseconds: 1000)
        try farm.startWorkers(1, extra: ["--stop-grace", String(grace)], environment: ["LOG_LEVEL": "info"])
        let job = try FarmExactCheckpointTests().submitExact(farm)
        try FarmExactCheckpointTests.waitUntilDone("style-targets", of: job, farm)
        let partner = try HandWorker(farm, name: "partner", capabilities: stopCapable)
        try partner.ready()
        _ = try #require(try partner.assignment(), "the gang is leased to the worker and the partner")
        let deadline = ContinuousClock.now + .seconds(60)
        while farm.log("worker-0").components(separatedBy: "task started").count < 3, ContinuousClock.now < deadline {
            try partner.peer.send(.heartbeat(Heartbeat()))
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(farm.log("worker-0").components(separatedBy: "task started").count == 3, "the targets, then the shard")
        return (farm, farm.workers[0], partner, job)
    }

    /// Waits for `process` to exit, heartbeating for the hand worker (the coordinator must not lose it meanwhile).
    func waitForExit(_ process: Process, keeping partner: HandWorker, timeout: Duration) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try partner.peer.send(.heartbeat(Heartbeat()))
            Thread.sleep(forTimeInterval: 0.1)
        }
        if process.isRunning { return false }
        process.waitUntilExit()
        return true
    }

    @Test func withoutACheckpointWithinTheGraceTheShardIsHandedBackAsBefore() throws {
        let (farm, worker, partner, _) = try shardThatCannotCheckpoint(grace: 2)
        let signalled = ContinuousClock.now
        kill(worker.processIdentifier, SIGTERM)
        #expect(try waitForExit(worker, keeping: partner, timeout: .seconds(30)))
        let took = ContinuousClock.now - signalled
        #expect(took >= .seconds(2), "it waited the grace period: \(took)")
        #expect(worker.terminationStatus == 0)
        let log = farm.log("worker-0")
        #expect(log.contains("stopping after the gang's checkpoint") && log.contains("within the grace period"), "\(log)")
        // Handed back as a worker always did on SIGTERM (the coordinator may read it just after the exit).
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        var ended: [Row] = []
        let deadline = ContinuousClock.now + .seconds(10)
        repeat {
            ended = try db.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT a.outcome, COALESCE(a.reason, '') AS reason FROM attempt a JOIN task t ON t.id = a.task_id
                    WHERE t.kind = 'shard' AND a.worker_id LIKE 'w0-%'
                    """)
            }
            if ended.contains(where: { $0["outcome"] as String != "running" }) { break }
            Thread.sleep(forTimeInterval: 0.05)
        } while ContinuousClock.now < deadline
        #expect(ended.count == 1 && ended.allSatisfy { $0["outcome"] as String == "lost" && ($0["reason"] as String).hasSuffix("worker shutting down") },
                "\(ended)")
    }

    @Test func aSecondSignalStopsAWorkerWaitingForACheckpointAtOnce() throws {
        let (farm, worker, partner, _) = try shardThatCannotCheckpoint(grace: 50)
        kill(worker.processIdentifier, SIGTERM)
        // `ShutdownSignals` takes a repeat within 2 s for the same request (Slurm signals twice):
        // this is a deliberate second one.
        #expect(try !waitForExit(worker, keeping: partner, timeout: .milliseconds(2500)),
                "still waiting for the checkpoint: \(farm.log("worker-0"))\n\(farm.log("coordinator"))")
        kill(worker.processIdentifier, SIGTERM)
        #expect(try waitForExit(worker, keeping: partner, timeout: .seconds(10)), "the second signal does not wait out the 50 s")
        #expect(worker.terminationStatus == 130)
    }
}
