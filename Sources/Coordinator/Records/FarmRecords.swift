public import Engine
public import Foundation
public import Protocol
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
        case failedPermanently
        case stale
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
        public var state: String
        public var priority: Int
        public var reason: String?
    }

    /// One loss-log line, as it arrives on the wire.
    public typealias LossLine = Protocol.LossLine

    let database: DatabasePool
    /// Attempts per task before the task (and its job) fails.
    public let maximumAttempts: Int

    public init(path: String, maximumAttempts: Int = 3) throws {
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
        self.maximumAttempts = maximumAttempts
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
                    INSERT INTO task (job_id, key, kind, request, output_name, state) VALUES (?, ?, ?, ?, ?, 'ready')
                    """, arguments: [id, task.key, task.kind.rawValue, try task.storedRequest ?? encoder.encode(task.request), task.outputName])
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
                .map { JobState(id: $0["id"], kind: $0["kind"], state: $0["state"], priority: $0["priority"], reason: $0["reason"]) }
        }
    }

    public func jobs() throws -> [JobState] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, state, priority, reason FROM job ORDER BY created_at")
                .map { JobState(id: $0["id"], kind: $0["kind"], state: $0["state"], priority: $0["priority"], reason: $0["reason"]) }
        }
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

    public func cancelJob(_ id: String) throws -> Bool {
        try database.write { db in
            try db.execute(sql: """
                UPDATE job SET state = 'cancelled', finished_at = ?, reason = 'cancelled by a client'
                WHERE id = ? AND state IN ('queued', 'running')
                """, arguments: [Self.now(), id])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: """
                UPDATE attempt SET outcome = 'cancelled', finished_at = ?
                WHERE outcome = 'running' AND task_id IN (SELECT id FROM task WHERE job_id = ?)
                """, arguments: [Self.now(), id])
            try db.execute(sql: "UPDATE task SET state = 'cancelled', current_attempt = NULL WHERE job_id = ? AND state IN ('ready', 'leased')",
                           arguments: [id])
            return true
        }
    }

    // MARK: Workers

    public func workerSeen(id: String, name: String, threads: Int, publicKey: String?) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO worker (id, name, threads, public_key, state, first_seen, last_seen) VALUES (?, ?, ?, ?, 'connected', ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, threads = excluded.threads,
                    public_key = excluded.public_key, state = 'connected', last_seen = excluded.last_seen
                """, arguments: [id, name, threads, publicKey, Self.now(), Self.now()])
        }
    }

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

    /// Completes the task of a current attempt; finishes the job when it was the last task.
    public func completeAttempt(_ attempt: Int64, result: Data, outputPath: String) throws -> AttemptOutcome {
        try transaction { try $0.completeAttempt(attempt, result: result, outputPath: outputPath) }
    }

    /// Fails a current attempt: the task goes back to the queue while it has attempts left
    /// (and `retryable`), else it and its job fail.
    public func failAttempt(_ attempt: Int64, reason: String, retryable: Bool, outcome: String = "failed") throws -> FailureOutcome {
        try transaction { try $0.failAttempt(attempt, reason: reason, retryable: retryable, outcome: outcome) }
    }

    /// A worker went silent: each of its running attempts is marked lost and its task requeued
    /// (a lost attempt counts towards the task's maximum, so a task that kills its workers ends).
    public func workerLost(_ worker: String, reason: String) throws -> Int {
        try transaction { tx in
            let running = try Int64.fetchAll(tx.db, sql: "SELECT id FROM attempt WHERE worker_id = ? AND outcome = 'running'",
                                             arguments: [worker])
            var requeued = 0
            for attempt in running where try tx.failAttempt(attempt, reason: reason, retryable: true, outcome: "lost") == .requeued {
                requeued += 1
            }
            try tx.db.execute(sql: "UPDATE worker SET state = 'lost' WHERE id = ?", arguments: [worker])
            return requeued
        }
    }

    /// After a coordinator restart no worker holds a lease any more: running attempts become
    /// lost and their tasks ready again; finished tasks stay finished. Returns the tasks requeued.
    public func recoverAfterRestart() throws -> Int {
        try database.write { db in
            try db.execute(sql: """
                UPDATE attempt SET outcome = 'lost', finished_at = ?, reason = 'coordinator restarted'
                WHERE outcome = 'running'
                """, arguments: [Self.now()])
            try db.execute(sql: "UPDATE task SET state = 'ready', current_attempt = NULL WHERE state = 'leased'")
            let requeued = db.changesCount
            try db.execute(sql: "UPDATE worker SET state = 'lost' WHERE state = 'connected'")
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
