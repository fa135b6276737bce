import Foundation
import GRDB
import Testing
import TestSupport
import Engine
import Farm
import Protocol

/// A raw peer playing a worker by hand: it takes tasks one at a time and says what it holds.
final class HandWorker {
    let peer: RawPeer
    var lastAssignment: Int64 = 0
    var holding: [Int64] = []
    let welcome: Welcome

    init(_ farm: FarmHarness, name: String, capabilities: [String] = WorkerCapability.allCases.map(\.rawValue)) throws {
        peer = try RawPeer(farm.endpoint)
        try peer.send(RawPeer.hello(name, memoryBytes: 8 << 30, capabilities: capabilities))
        guard case .welcome(let welcome)? = try peer.receive(until: { if case .welcome = $0 { true } else { false } }) else {
            throw TestFailure("no welcome for \(name)")
        }
        self.welcome = welcome
    }

    func ready() throws { try peer.send(.ready(Ready(credit: 1, holding: holding, lastAssignment: lastAssignment))) }

    /// The next assignment within `timeout`, or nil.
    func assignment(timeout: Duration = .seconds(10)) throws -> TaskAssignment? {
        guard case .assign(let assignment)? = try peer.receive(timeout: timeout, until: { if case .assign = $0 { true } else { false } })
        else { return nil }
        lastAssignment = max(lastAssignment, assignment.attemptID)
        holding.append(assignment.attemptID)
        return assignment
    }

    /// Hands in `payload` as the result of `assignment`.
    func finish(_ assignment: TaskAssignment, payload: Data) throws {
        let losses = LossLine(iteration: 1, total: 1, content: 1, styles: [1], tv: 0, elapsed: 0.1)
        try peer.send(.result(TaskResult(taskID: assignment.taskID, attemptID: assignment.attemptID, finalLosses: losses,
                                         summary: .object([:]), image: payload)))
        holding.removeAll { $0 == assignment.attemptID }
    }

    func exchange(_ assignment: TaskAssignment, step: Int, phase: ExchangePhase, bytes: [UInt8], checkpointRequested: Bool? = nil) throws {
        try peer.send(.exchange(ShardExchange(taskID: assignment.taskID, attemptID: assignment.attemptID, step: step, phase: phase,
                                              bytes: Data(bytes), checkpointRequested: checkpointRequested)))
    }

    func exchanged(timeout: Duration = .seconds(10)) throws -> ShardExchangeReply? {
        guard case .exchanged(let reply)? = try peer.receive(timeout: timeout, until: { if case .exchanged = $0 { true } else { false } })
        else { return nil }
        return reply
    }

    func cancelled(timeout: Duration = .seconds(10)) throws -> CancelTask? {
        guard case .cancel(let cancel)? = try peer.receive(timeout: timeout, until: { if case .cancel = $0 { true } else { false } })
        else { return nil }
        holding.removeAll { $0 == cancel.attemptID }
        return cancel
    }

    static func field(_ name: String, of assignment: TaskAssignment) -> JSONValue? {
        guard case .object(let fields) = assignment.settings else { return nil }
        return fields[name]
    }

    static func shardIndex(_ assignment: TaskAssignment) -> Int? {
        switch field("shardIndex", of: assignment) {
        case .int(let index)?: Int(index)
        case .double(let index)?: Int(exactly: index)
        default: nil
        }
    }
}

/// Exact jobs' checkpoints and gang scheduling on a real coordinator, with hand-driven workers
/// (no engine: the coordinator only checks a checkpoint's header and stores its bytes).
@Suite(.serialized)
struct FarmExactCheckpointTests {
    /// 128×96 in 64-pixel tiles: two tile rows, so two shards of one row each. From the content:
    /// no coarse pass, the style targets are the only task before the shards.
    func submitExact(_ farm: FarmHarness, extra: [String] = []) throws -> String {
        let (status, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--content", farm.samples.content,
                                             "--style", farm.samples.style1, "--size", "128", "--tile", "64", "--mode", "exact",
                                             "--shards", "2", "--init", "content", "--iterations", "20", "--checkpoint-every", "5"] + extra)
        #expect(status == 0, "\(output)")
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func checkpoint(iteration: Int, index: Int, count: Int = 2, seed: Float = 0) throws -> [UInt8] {
        try ExactShardCheckpoint(iteration: iteration, shardIndex: index, shardCount: count, optimizer: "adam", scalars: ["step": Double(iteration)],
                                 floats: ["pixels": (0..<300).map { Float($0) * 0.5 + seed + Float(index) }]).encoded()
    }

    /// Runs the style targets on `first`, then leases the gang to `first` and `second`: the two
    /// shard assignments by shard index.
    func gang(_ farm: FarmHarness, _ first: HandWorker, _ second: HandWorker) throws -> [Int: (HandWorker, TaskAssignment)] {
        try first.ready()
        let targets = try #require(try first.assignment(), "the style targets go out first")
        try first.finish(targets, payload: Data([1, 2, 3, 4]))
        try first.ready()
        try second.ready()
        var shards: [Int: (HandWorker, TaskAssignment)] = [:]
        for worker in [first, second] {
            let assignment = try #require(try worker.assignment(), "both workers get a shard")
            shards[try #require(HandWorker.shardIndex(assignment))] = (worker, assignment)
        }
        #expect(shards.keys.sorted() == [0, 1])
        return shards
    }

    @Test func checkpointsAreStoredOnceEveryShardSentOneAndARestartedGangResumesFromThem() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(heartbeatMilliseconds: 1000)
        let job = try submitExact(farm)
        let a = try HandWorker(farm, name: "a"), b = try HandWorker(farm, name: "b")
        let shards = try gang(farm, a, b)
        let (zero, one) = (try #require(shards[0]), try #require(shards[1]))
        #expect(HandWorker.field("checkpointEvery", of: zero.1) == .int(5) && HandWorker.field("resumePath", of: zero.1) == nil)

        let saved = [try Self.checkpoint(iteration: 5, index: 0), try Self.checkpoint(iteration: 5, index: 1)]
        try zero.0.exchange(zero.1, step: 5, phase: .checkpoint, bytes: saved[0])
        #expect(try zero.0.exchanged(timeout: .seconds(1)) == nil, "no answer before every shard's checkpoint is stored")
        try one.0.exchange(one.1, step: 5, phase: .checkpoint, bytes: saved[1])
        for (worker, assignment) in [zero, one] {
            let reply = try #require(try worker.exchanged(), "every shard is answered once all are stored")
            #expect(reply.attemptID == assignment.attemptID && reply.step == 5 && reply.phase == .checkpoint && reply.bytes.isEmpty)
        }
        let rows = try DatabaseQueue(path: farm.data + "/farm.sqlite").read { db in
            try Row.fetchAll(db, sql: "SELECT shard_index, iteration, sha256, bytes, complete FROM exact_checkpoint WHERE job_id = ? ORDER BY shard_index",
                             arguments: [job])
        }
        #expect(rows.count == 2)
        for (index, row) in rows.enumerated() {
            let sha: String = row["sha256"]
            #expect(sha == BlobStore.hash(saved[index]) && row["complete"] as Int == 1 && row["iteration"] as Int == 5)
            let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: farm.data + "/blobs/" + sha)))
            #expect(stored == saved[index], "shard \(index + 1)'s bytes are the blob")
        }
        let status = try farm.run(["status", job, "--coordinator", farm.endpoint]).output
        #expect(status.contains("\"checkpoint\"") && status.contains("\"iteration\" : 5"), "\(status)")

        // Shard 2's worker leaves: the gang stops, and starts again on whoever is free, from iteration 5.
        try one.0.peer.send(.goodbye(Goodbye(reason: "test")))
        #expect(try zero.0.cancelled()?.attemptID == zero.1.attemptID, "the other shard is stopped")
        let c = try HandWorker(farm, name: "c")
        try zero.0.ready()
        try c.ready()
        for worker in [zero.0, c] {
            let assignment = try #require(try worker.assignment(), "the gang is leased again")
            let index = try #require(HandWorker.shardIndex(assignment))
            let resume = "blob:" + BlobStore.hash(saved[index])
            #expect(HandWorker.field("resumePath", of: assignment) == .string(resume), "shard \(index + 1) resumes from its own checkpoint")
            #expect(assignment.inputs["resume"]?.hex == BlobStore.hash(saved[index]))
            // A worker fetches it like any input.
            try worker.peer.send(.blobRequest(BlobRequest(sha256: try #require(SHA256Digest(hex: BlobStore.hash(saved[index]))))))
            guard case .blob(let blob)? = try worker.peer.receive(until: { if case .blob = $0 { true } else { false } }) else {
                Issue.record("no blob reply")
                continue
            }
            #expect([UInt8](blob.bytes) == saved[index])
        }
        #expect(farm.log("coordinator").contains("exact gang resumes from checkpoint"))
        #expect(farm.log("coordinator").contains("iteration=5"))
    }

    @Test func aMalformedCheckpointFailsItsJobAndTheCoordinatorServesOn() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(heartbeatMilliseconds: 1000)
        let cases: [(bytes: (Int) throws -> [UInt8], reason: String)] = [
            ({ _ in Array("not a checkpoint at all".utf8) }, "SFCKPT01"),
            ({ index in try Self.checkpoint(iteration: 5, index: 1 - index) }, "the sender is shard"),
            ({ index in try Self.checkpoint(iteration: 5 + index, index: index) }, "the other shards saved iteration 5"),
        ]
        for (number, (bytes, reason)) in cases.enumerated() {
            let job = try submitExact(farm)
            let first = try HandWorker(farm, name: "p\(number)"), second = try HandWorker(farm, name: "q\(number)")
            let shards = try gang(farm, first, second)
            for index in [0, 1] {
                let (worker, assignment) = try #require(shards[index])
                try worker.exchange(assignment, step: 5, phase: .checkpoint, bytes: try bytes(index))
            }
            for (worker, assignment) in shards.values {
                #expect(try worker.cancelled()?.attemptID == assignment.attemptID, "both shards are stopped")
            }
            let (status, output) = try farm.wait(job, timeout: 20)
            #expect(status != 0 && output.contains(reason), "\(reason): \(output)")
            #expect(try DatabaseQueue(path: farm.data + "/farm.sqlite").read {
                try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM exact_checkpoint WHERE job_id = ? AND complete = 1", arguments: [job])
            } == 0, "nothing refused is a checkpoint")
            for worker in [first, second] { try worker.peer.send(.goodbye(Goodbye(reason: "next case"))) }
        }
        #expect(try farm.run(["status", "--coordinator", farm.endpoint]).status == 0, "the coordinator keeps serving")
    }

    /// Waits until the coordinator has recorded `key` done (its result file is written first).
    static func waitUntilDone(_ key: String, of job: String, _ farm: FarmHarness) throws {
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let state = try db.read { try String.fetchOne($0, sql: "SELECT state FROM task WHERE job_id = ? AND key = ?", arguments: [job, key]) }
            if state == "done" { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw TestFailure("\(key) of \(job) was not recorded done")
    }

    @Test func aWaitingGangHoldsFreeWorkersAgainstOtherJobsSingleTasks() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(heartbeatMilliseconds: 1000)
        let exact = try submitExact(farm)
        let a = try HandWorker(farm, name: "a"), b = try HandWorker(farm, name: "b")
        try a.ready()
        let targets = try #require(try a.assignment())
        #expect(targets.jobID == exact)
        let sweep = try farm.submitSweep(gamma: "0:1:0.25")
        try b.ready()
        let point = try #require(try b.assignment(), "while the shards wait for their targets, the sweep runs")
        #expect(point.jobID == sweep)
        try a.finish(targets, payload: Data([1, 2, 3, 4]))
        try Self.waitUntilDone("style-targets", of: exact, farm)
        try a.ready()
        // Without the hold, a would take a sweep point now, and b the next, for ever.
        #expect(try a.assignment(timeout: .seconds(2)) == nil, "a free worker is held for the gang")
        try b.finish(point, payload: Data(try Data(contentsOf: URL(fileURLWithPath: farm.samples.style1))))
        try b.ready()
        for worker in [a, b] {
            let shard = try #require(try worker.assignment(), "the gang starts once two workers are free")
            #expect(shard.jobID == exact && HandWorker.shardIndex(shard) != nil)
        }
    }

    @Test func aGangWithoutEnoughCapableWorkersHoldsNoneAndSaysWhy() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(heartbeatMilliseconds: 1000)
        let exact = try submitExact(farm)
        let a = try HandWorker(farm, name: "a")
        _ = try HandWorker(farm, name: "old", capabilities: [WorkerCapability.render.rawValue])
        try a.ready()
        let targets = try #require(try a.assignment())
        let sweep = try farm.submitSweep(gamma: "0:1:0.25")
        try a.finish(targets, payload: Data([1, 2, 3, 4]))
        try Self.waitUntilDone("style-targets", of: exact, farm)
        try a.ready()
        let point = try #require(try a.assignment(), "one capable worker for two shards: nothing to hold it for")
        #expect(point.jobID == sweep)
        let status = try farm.run(["status", exact, "--coordinator", farm.endpoint]).output
        #expect(status.contains("needs 2 workers that can run its shards, 1 connected"), "\(status)")
    }
}

/// A real gang of real workers loses one to `kill -9` after a checkpoint, resumes there on the
/// workers still free, and ends where an uninterrupted run ends.
@Suite(.serialized)
struct FarmExactResumeTests {
    func options(_ farm: FarmHarness) -> [String] {
        ["--content", farm.samples.content, "--style", farm.samples.style1, "--init", "content", "--optimizer", "adam", "--lr", "1",
         "--iterations", "16", "--style-layers", "block1_relu1,block2_relu1", "--size", "128", "--tile", "64", "--mode", "exact",
         "--shards", "2", "--bit-depth", "16", "--checkpoint-every", "4"]
    }

    @Test func aGangThatLosesAWorkerAfterACheckpointResumesThereAndEndsWhereAnUninterruptedRunEnds() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(3)
        let (submitted, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint] + options(farm))
        #expect(submitted == 0, "\(output)")
        let job = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        // Wait for a complete checkpoint, then kill a running shard's worker.
        var victim: String?
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline, victim == nil {
            victim = try db.read { db in
                guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exact_checkpoint WHERE job_id = ? AND complete = 1", arguments: [job]) ?? 0 > 0
                else { return nil }
                return try String.fetchOne(db, sql: """
                    SELECT a.worker_id FROM attempt a JOIN task t ON t.id = a.task_id
                    WHERE t.job_id = ? AND t.kind = 'shard' AND a.outcome = 'running' LIMIT 1
                    """, arguments: [job])
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let victimID = try #require(victim, "a checkpoint was stored while the shards ran")
        let index = try #require(Int(victimID.split(separator: "-")[0].dropFirst()))
        farm.kill9(farm.workers[index])
        let (status, waited) = try farm.wait(job)
        #expect(status == 0, "\(waited)\n\(farm.log("coordinator"))")

        // The iteration the gang resumed from, as the coordinator logged it.
        let log = farm.log("coordinator")
        let line = try #require(log.split(separator: "\n").first { $0.contains("exact gang resumes from checkpoint") }, "\(log)")
        let iteration = try #require(line.firstRange(of: "iteration=").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) })
        #expect(iteration >= 4 && iteration % 4 == 0)
        // The resumed attempts' loss logs start at that iteration: no step before it was redone.
        let firstLines = try db.read { db in
            try Int.fetchAll(db, sql: """
                SELECT MIN(l.iteration) FROM loss_line l JOIN attempt a ON a.id = l.attempt_id JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND t.kind = 'shard' AND a.outcome = 'succeeded' GROUP BY a.id
                """, arguments: [job])
        }
        #expect(firstLines == [iteration, iteration], "each succeeded shard's log starts at the checkpoint: \(firstLines)")

        // The same job uninterrupted: the same image within 2/255 (both stored as 16 bits; the
        // resumed optimisation continues from bit-identical state, so only float summation
        // order across different workers could differ).
        let (again, secondOutput) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint] + options(farm))
        #expect(again == 0, "\(secondOutput)")
        let reference = secondOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try farm.wait(reference).status == 0)
        try farm.expectOutputsAgree(job, reference)
    }
}
