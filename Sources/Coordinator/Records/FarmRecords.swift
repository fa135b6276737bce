public import Engine
public import Foundation
public import Protocol
public import Farm
import GRDB

/// Everything the coordinator must not lose, in SQLite (WAL): jobs, their task DAGs, workers,
/// every attempt, and every loss-log line. Every state change is one transaction, so a
/// coordinator killed at any instant restarts from a consistent record (`recoverAfterRestart`).
///
/// Results are fenced by attempt: only the attempt a task currently leases may complete or fail
/// it; anything else (a lost worker that comes back, a duplicate message) is reported `.stale`.
public final class FarmRecords: Sendable {
    public enum AttemptOutcome: Sendable, Equatable {
        case accepted
        /// Not the task's current attempt, or not running: dropped (and logged by the caller).
        case stale
    }

    public enum FailureOutcome: Sendable, Equatable {
        case requeued
        /// The task is out of budget: its job failed, and these running attempts of the job's
        /// other tasks were cancelled (their workers should be told to stop).
        case failedPermanently(job: String, cancelled: [Int64])
        case stale

        public var isFailedPermanently: Bool { if case .failedPermanently = self { true } else { false } }
    }

    /// How an attempt that did not succeed ended, which decides the budget it is charged to.
    public enum AttemptEnd: Sendable, Equatable {
        /// The task failed; `retryable` false when another worker would fail the same way.
        case failed(retryable: Bool)
        /// The infrastructure lost it.
        case lost(LossCause)
        /// The assignment never reached its worker.
        case undelivered
    }

    /// How many times a task may fail, and be lost, before its job fails.
    public struct AttemptBudget: Sendable, Equatable {
        /// Failures the task caused itself (a bad input, out of memory on every worker).
        public var failures: Int
        /// Losses the infrastructure caused (workers killed, the coordinator restarted…):
        /// normal on a farm, so a much larger budget, with exponential back-off between them.
        public var losses: Int
        /// The delay before the second retry of a lost task; it doubles with each loss.
        public var backoffBase: Double
        public var backoffMaximum: Double

        public init(failures: Int = 3, losses: Int = 50, backoffBase: Double = 0.25, backoffMaximum: Double = 10) {
            self.failures = failures
            self.losses = losses
            self.backoffBase = backoffBase
            self.backoffMaximum = backoffMaximum
        }

        /// Seconds a task waits after its `losses`-th loss: none after the first (a killed
        /// worker's task goes straight to another), then 0.25 s, 0.5 s, … up to the maximum.
        public func backoff(afterLosses losses: Int) -> Double {
            guard losses > 1 else { return 0 }
            return min(backoffMaximum, backoffBase * Double(1 << min(losses - 2, 20)))
        }
    }

    public struct Lease: Sendable, Equatable {
        public var taskID: Int64
        public var attemptID: Int64
        public var jobID: String
        public var key: String
        public var kind: PlannedTask.Kind
        public var request: RenderRequest
        public var outputName: String
    }

    public struct TaskState: Sendable, Equatable {
        public var id: Int64
        public var key: String
        public var kind: String
        public var state: String
        public var attempts: Int
        public var outputPath: String?
    }

    public struct JobState: Sendable, Equatable {
        public var id: String
        public var kind: String
        public var state: Farm.JobState
        public var priority: Int
        public var reason: String?
    }

    /// One loss-log line, as it arrives on the wire.
    public typealias LossLine = Protocol.LossLine

    let database: DatabasePool
    public let budget: AttemptBudget
    /// Transaction times and attempt durations (`CoordinatorMetrics`); no-ops unless given.
    let metrics: CoordinatorMetrics

    public convenience init(path: String, maximumFailures: Int = 3) throws {
        try self.init(path: path, budget: AttemptBudget(failures: maximumFailures))
    }

    public init(path: String, budget: AttemptBudget, metrics: CoordinatorMetrics = CoordinatorMetrics()) throws {
        self.metrics = metrics
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        // In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a committed
        // transaction survives the coordinator being killed (kill -9), though not a power cut
        // in the last moments; FULL would cost an fsync per batch.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            database = try DatabasePool(path: path, configuration: configuration)   // WAL mode
            try Self.migrator.migrate(database)
        } catch {
            throw EngineError(.io, "cannot open the farm database '\(path)'", cause: "\(error)")
        }
        self.budget = budget
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    static func newJobID() -> String {
        (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    // MARK: Jobs

    /// Records a job and its task DAG; returns the job id.
    public func createJob(kind: String, spec: Data, priority: Int, tasks: [PlannedTask]) throws -> String {
        let id = Self.newJobID()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try database.write { db in
            try db.execute(sql: "INSERT INTO job (id, kind, spec, priority, state, created_at) VALUES (?, ?, ?, ?, 'queued', ?)",
                           arguments: [id, kind, spec, priority, Self.now()])
            var ids: [String: Int64] = [:]
            for task in tasks {
                try db.execute(sql: """
                    INSERT INTO task (job_id, key, kind, request, output_name, state, pixels) VALUES (?, ?, ?, ?, ?, 'ready', ?)
                    """, arguments: [id, task.key, task.kind.rawValue, try task.storedRequest ?? encoder.encode(task.request), task.outputName,
                                     task.peakPixels])
                ids[task.key] = db.lastInsertedRowID
            }
            for task in tasks {
                for dependency in task.dependsOn {
                    guard let from = ids[task.key], let to = ids[dependency] else {
                        throw EngineError(.invalidArgument, "task \(task.key) depends on unknown task \(dependency)")
                    }
                    try db.execute(sql: "INSERT INTO task_dependency (task_id, depends_on) VALUES (?, ?)", arguments: [from, to])
                }
            }
        }
        return id
    }

    public func job(_ id: String) throws -> JobState? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, kind, state, priority, reason FROM job WHERE id = ?", arguments: [id])
                .map(Self.jobState)
        }
    }

    public func jobs() throws -> [JobState] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, state, priority, reason FROM job ORDER BY created_at")
                .map(Self.jobState)
        }
    }

    static func jobState(_ row: Row) -> JobState {
        JobState(id: row["id"], kind: row["kind"], state: Farm.JobState(rawValue: row["state"]) ?? .failed,
                 priority: row["priority"], reason: row["reason"])
    }

    public func jobSpec(_ id: String) throws -> Data? {
        try database.read { db in try Data.fetchOne(db, sql: "SELECT spec FROM job WHERE id = ?", arguments: [id]) }
    }

    public func tasks(ofJob id: String) throws -> [TaskState] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, key, kind, state, attempts, output_path FROM task WHERE job_id = ? ORDER BY id",
                             arguments: [id])
                .map { TaskState(id: $0["id"], key: $0["key"], kind: $0["kind"], state: $0["state"], attempts: $0["attempts"], outputPath: $0["output_path"]) }
        }
    }

    /// Cancels a queued or running job and its unfinished tasks; returns the running attempts
    /// it cancelled (their workers should be told to stop), or nil when the job is unknown or
    /// already finished.
    public func cancelJob(_ id: String) throws -> [Int64]? {
        try transaction { tx in
            try tx.execute("""
                UPDATE job SET state = 'cancelled', finished_at = ?, reason = 'cancelled by a client'
                WHERE id = ? AND state IN ('queued', 'running')
                """, arguments: [Self.now(), id])
            guard tx.db.changesCount > 0 else { return nil }
            return try tx.cancelUnfinishedTasks(ofJob: id)
        }
    }

    /// Jobs whose tasks are all done but whose own outputs are not yet written (a coordinator
    /// killed in between finds them here on restart).
    public func finishingJobs() throws -> [(id: String, kind: String)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind FROM job WHERE state = 'finishing' ORDER BY created_at").map { ($0["id"], $0["kind"]) }
        }
    }

    /// Finished tasks of a finishing job whose files are gone go back to the queue (their
    /// successes void), and the job runs again until they are done.
    public func reopenTasks(ofJob job: String, keys: [String], reason: String) throws {
        try transaction { tx in
            // The tasks named, and everything downstream of them (a stitch), run again.
            var tasks: [Int64] = []
            for row in try Row.fetchAll(tx.db, sql: "SELECT id, key, kind FROM task WHERE job_id = ? AND state = 'done'", arguments: [job]) {
                if keys.contains(row["key"]) || row["kind"] == PlannedTask.Kind.stitch.rawValue { tasks.append(row["id"]) }
            }
            try tx.reopen(tasks, reason: reason)
            try tx.execute("UPDATE job SET state = 'running' WHERE id = ? AND state = 'finishing'", arguments: [job])
        }
    }

    /// A finishing job's outputs are on disk: it has succeeded.
    public func jobOutputsWritten(_ id: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE job SET state = 'succeeded', finished_at = ? WHERE id = ? AND state = 'finishing'",
                           arguments: [Self.now(), id])
        }
    }

    /// A finishing job whose outputs cannot be written fails with the reason.
    public func jobOutputsFailed(_ id: String, reason: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE job SET state = 'failed', finished_at = ?, reason = ? WHERE id = ? AND state = 'finishing'",
                           arguments: [Self.now(), "could not write the job's outputs: \(reason)", id])
        }
    }

    // MARK: Workers

    /// What a worker said about itself in `hello`, as recorded.
    public struct WorkerAnnouncement: Sendable {
        public var id: String
        public var name: String
        public var threads: Int
        public var publicKey: String?
        public var host: String?
        public var memoryBytes: Int64?
        public var capabilities: [String]
        public var engineVersion: String?
        public var weightsSHA256: String?

        public init(id: String, name: String, threads: Int, publicKey: String?, host: String? = nil, memoryBytes: Int64? = nil,
                    capabilities: [String] = [], engineVersion: String? = nil, weightsSHA256: String? = nil) {
            self.id = id
            self.name = name
            self.threads = threads
            self.publicKey = publicKey
            self.host = host
            self.memoryBytes = memoryBytes
            self.capabilities = capabilities
            self.engineVersion = engineVersion
            self.weightsSHA256 = weightsSHA256
        }
    }

    public func workerSeen(id: String, name: String, threads: Int, publicKey: String?) throws {
        try workerSeen(WorkerAnnouncement(id: id, name: name, threads: threads, publicKey: publicKey))
    }

    public func workerSeen(_ worker: WorkerAnnouncement) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO worker (id, name, threads, public_key, state, first_seen, last_seen, host, memory_bytes, capabilities,
                                    engine_version, weights_sha256)
                VALUES (?, ?, ?, ?, 'connected', ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, threads = excluded.threads,
                    public_key = excluded.public_key, state = 'connected', last_seen = excluded.last_seen, host = excluded.host,
                    memory_bytes = excluded.memory_bytes, capabilities = excluded.capabilities,
                    engine_version = excluded.engine_version, weights_sha256 = excluded.weights_sha256
                """, arguments: [worker.id, worker.name, worker.threads, worker.publicKey, Self.now(), Self.now(), worker.host,
                                 worker.memoryBytes, worker.capabilities.joined(separator: ","), worker.engineVersion, worker.weightsSHA256])
            // Keep the table bounded: every session is a row, so forget the oldest lost ones.
            try db.execute(sql: """
                DELETE FROM worker WHERE state != 'connected' AND id NOT IN
                    (SELECT id FROM worker WHERE state != 'connected' ORDER BY last_seen DESC LIMIT ?)
                """, arguments: [Self.workerRowsKept])
        }
    }

    /// Workers no longer connected that the table remembers.
    static let workerRowsKept = 1000

    /// Failed attempts of a worker within a job (to stop sending it that job's tasks).
    public func failures(ofWorker worker: String, inJob job: String) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM attempt a JOIN task t ON t.id = a.task_id
                WHERE a.worker_id = ? AND t.job_id = ? AND a.outcome = 'failed'
                """, arguments: [worker, job]) ?? 0
        }
    }

    // MARK: Scheduling

    /// Leases the next runnable task to `worker`: the highest-priority, oldest job first; within
    /// it the first task whose dependencies are done. Records a new attempt; nil when none.
    public func leaseNextTask(to worker: String, excludingJobs excluded: Set<String> = []) throws -> Lease? {
        try transaction { tx in
            guard let candidate = try tx.runnableTasks(limit: 1, excludingJobs: excluded).first else { return nil }
            return try tx.lease(candidate, to: worker)
        }
    }

    /// Stores loss-log lines of a running attempt (a repeated line is ignored). Stale attempts
    /// store nothing.
    public func recordProgress(attempt: Int64, lines: [LossLine]) throws -> AttemptOutcome {
        try transaction { try $0.recordProgress(attempt: attempt, lines: lines) }
    }

    /// Completes the task of a current attempt; the job becomes `finishing` when it was the last.
    public func completeAttempt(_ attempt: Int64, result: Data, outputPath: String) throws -> AttemptOutcome {
        try transaction { try $0.completeAttempt(attempt, result: result, outputPath: outputPath) }
    }

    /// Ends a current attempt that did not succeed (see `Transaction.endAttempt`).
    public func endAttempt(_ attempt: Int64, _ end: AttemptEnd, reason: String) throws -> FailureOutcome {
        try transaction { try $0.endAttempt(attempt, end, reason: reason) }
    }

    /// A worker went silent or left: each of its running attempts is lost and its task
    /// requeued (charged to the loss budget, not the failure budget). Returns the outcomes.
    public func workerLost(_ worker: String, cause: LossCause, reason: String = "") throws -> [FailureOutcome] {
        try transaction { tx in
            let running = try Int64.fetchAll(tx.db, sql: "SELECT id FROM attempt WHERE worker_id = ? AND outcome = 'running'",
                                             arguments: [worker])
            let outcomes = try running.map { try tx.endAttempt($0, .lost(cause), reason: reason) }
            // A goodbye (or a revoked key) is a worker gone on purpose; anything else lost it.
            try tx.db.execute(sql: "UPDATE worker SET state = ? WHERE id = ?", arguments: [cause == .workerLeft ? "gone" : "lost", worker])
            return outcomes
        }
    }

    /// After a coordinator restart no worker holds a lease any more: running attempts (and
    /// results whose files were still being written) are lost, charged to the loss budget like
    /// any loss; finished tasks stay finished. Returns the tasks requeued.
    public func recoverAfterRestart() throws -> Int {
        try transaction { tx in
            let running = try Int64.fetchAll(tx.db, sql: "SELECT id FROM attempt WHERE outcome IN ('running', 'received')")
            // A received attempt is not "current" for a loss: make it running again first.
            try tx.execute("UPDATE attempt SET outcome = 'running' WHERE outcome = 'received'")
            var requeued = 0
            for attempt in running where try tx.endAttempt(attempt, .lost(.coordinatorRestarted), reason: "") == .requeued {
                requeued += 1
            }
            // A lease without a running attempt cannot be finished by anyone.
            try tx.execute("UPDATE task SET state = 'ready', current_attempt = NULL WHERE state = 'leased'")
            requeued += tx.db.changesCount
            try tx.execute("UPDATE worker SET state = 'lost' WHERE state = 'connected'")
            return requeued
        }
    }

    /// Counts rows per table, for tests and `stylefarm status`.
    public func counts() throws -> [String: Int] {
        try database.read { db in
            var result: [String: Int] = [:]
            for table in ["job", "task", "attempt", "worker", "loss_line"] {
                result[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            return result
        }
    }
}
