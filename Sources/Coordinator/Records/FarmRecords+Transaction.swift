import CoreMetrics
import Engine
import Foundation
import GRDB
import Protocol
import Farm

extension FarmRecords {
    /// The hot-path operations (leases, progress, results, failures) inside one write
    /// transaction. The coordinator handles a whole batch of messages, and leases the tasks
    /// they free, in one commit: SQLite then pays one WAL append per batch rather than one per
    /// message, which is what lets one coordinator serve thousands of tasks a second.
    struct Transaction {
        let db: Database
        let budget: AttemptBudget
        /// Where ended attempts' durations go; nil on read-only snapshots.
        var metrics: CoordinatorMetrics? = nil

        /// Statements are compiled once per connection and reused: at thousands of tasks a
        /// second, compiling (and GRDB's authorizer callbacks while compiling) is a real cost.
        func execute(_ sql: String, arguments: StatementArguments = []) throws {
            try db.cachedStatement(sql: sql).execute(arguments: arguments)
        }

        // MARK: Leasing

        /// Up to `limit` runnable tasks in scheduling order — the highest-priority, oldest job
        /// first; within a job by task id — skipping `excludedJobs`. Each job's ready tasks come
        /// from the (state, job_id) index in id order, so this costs O(limit · log n), not a sort
        /// of every ready task.
        func runnableTasks(limit: Int, excludingJobs excludedJobs: Set<String> = []) throws -> [Candidate] {
            var candidates: [Candidate] = []
            let now = FarmRecords.now()
            let jobs = try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT id FROM job WHERE state IN ('queued', 'running') ORDER BY priority DESC, created_at
                """)).map { $0["id"] as String }
            for job in jobs where !excludedJobs.contains(job) {
                let rows = try Row.fetchAll(try db.cachedStatement(sql: """
                    SELECT t.id, t.key, t.kind, t.request, t.output_name, t.pixels FROM task t
                    WHERE t.state = 'ready' AND t.job_id = ? AND t.kind NOT IN ('stitch', 'shard') AND t.not_before <= ?
                      AND NOT EXISTS (SELECT 1 FROM task_dependency d JOIN task u ON u.id = d.depends_on
                                      WHERE d.task_id = t.id AND u.state != 'done')
                    ORDER BY t.id LIMIT ?
                    """), arguments: [job, now, limit - candidates.count])
                candidates += rows.map { Candidate(taskID: $0["id"], jobID: job, key: $0["key"], kind: $0["kind"],
                                                   request: $0["request"], outputName: $0["output_name"], pixels: $0["pixels"]) }
                if candidates.count >= limit { break }
            }
            return candidates
        }

        struct Candidate {
            var taskID: Int64
            var jobID: String
            var key: String
            var kind: String
            var request: Data
            var outputName: String
            /// What it renders at once (`TaskFootprint`); 0 when unknown.
            var pixels: Int = 0
        }

        /// Records a new attempt of `candidate` by `worker`; returns the attempt id.
        func recordAttempt(_ candidate: Candidate, by worker: String) throws -> Int64 {
            try execute("INSERT INTO attempt (task_id, worker_id, started_at, outcome) VALUES (?, ?, ?, 'running')",
                        arguments: [candidate.taskID, worker, FarmRecords.now()])
            let attemptID = db.lastInsertedRowID
            try execute("UPDATE task SET state = 'leased', current_attempt = ?, attempts = attempts + 1 WHERE id = ?",
                        arguments: [attemptID, candidate.taskID])
            try execute("UPDATE job SET state = 'running' WHERE id = ? AND state = 'queued'", arguments: [candidate.jobID])
            return attemptID
        }

        /// Records a new attempt of `candidate` by `worker`, as a lease with its request decoded.
        func lease(_ candidate: Candidate, to worker: String) throws -> Lease {
            let attemptID = try recordAttempt(candidate, by: worker)
            return Lease(taskID: candidate.taskID, attemptID: attemptID, jobID: candidate.jobID, key: candidate.key,
                         kind: PlannedTask.Kind(rawValue: candidate.kind) ?? .render,
                         request: try JSONDecoder().decode(RenderRequest.self, from: candidate.request),
                         outputName: candidate.outputName)
        }

        /// The stored result (summary JSON) of a finished task, by key.
        func result(ofTask key: String, inJob job: String) throws -> Data? {
            try Data.fetchOne(try db.cachedStatement(sql: "SELECT result FROM task WHERE job_id = ? AND key = ? AND state = 'done'"), arguments: [job, key])
        }

        // MARK: Attempts

        /// Where an attempt's output goes, without decoding its request: the result path needs
        /// only this.
        func outputOfAttempt(_ attempt: Int64) throws -> (jobID: String, key: String, kind: String, outputName: String)? {
            try Row.fetchOne(try db.cachedStatement(sql: """
                SELECT t.job_id, t.key, t.kind, t.output_name FROM attempt a JOIN task t ON t.id = a.task_id WHERE a.id = ?
                """), arguments: [attempt]).map { ($0["job_id"], $0["key"], $0["kind"], $0["output_name"]) }
        }

        /// Whether `attempt` is the one its task is leased under and still running (or, with
        /// `allowingReceived`, its result has arrived), found through the attempt's primary key:
        /// task.current_attempt has no index.
        func isCurrent(_ attempt: Int64, allowingReceived: Bool = false) throws -> Bool {
            try Bool.fetchOne(try db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM attempt a JOIN task t ON t.id = a.task_id
                               WHERE a.id = ? AND t.current_attempt = a.id AND t.state = 'leased'
                                 AND (a.outcome = 'running' OR (? AND a.outcome = 'received')))
                """), arguments: [attempt, allowingReceived]) ?? false
        }

        /// Stores loss-log lines of a running attempt (a repeated line is ignored). Stale
        /// attempts store nothing.
        func recordProgress(attempt: Int64, lines: [LossLine]) throws -> AttemptOutcome {
            guard try isCurrent(attempt) else { return .stale }
            let encoder = JSONEncoder()
            for line in lines {
                let styles = String(decoding: try encoder.encode(line.styles), as: UTF8.self)
                try execute("""
                    INSERT OR IGNORE INTO loss_line (attempt_id, iteration, total, content, styles, tv, elapsed)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [attempt, line.iteration, line.total, line.content, styles, line.tv, line.elapsed])
            }
            return .accepted
        }

        /// The worker an attempt was leased to: what a message about the attempt is checked
        /// against (only its holder may report on it).
        func holder(ofAttempt attempt: Int64) throws -> String? {
            try String.fetchOne(try db.cachedStatement(sql: "SELECT worker_id FROM attempt WHERE id = ?"), arguments: [attempt])
        }

        /// A current attempt's result has arrived: from now on nothing but a coordinator
        /// restart can take it back (a goodbye or a silence of its worker no longer makes it
        /// stale while its file is written).
        func markReceived(_ attempt: Int64) throws -> AttemptOutcome {
            guard try isCurrent(attempt) else { return .stale }
            try execute("UPDATE attempt SET outcome = 'received' WHERE id = ?", arguments: [attempt])
            return .accepted
        }

        /// Completes the task of a current (or received) attempt. When it was the job's last
        /// task the job becomes `finishing`: it succeeds once its own outputs are on disk.
        func completeAttempt(_ attempt: Int64, result: Data, outputPath: String) throws -> AttemptOutcome {
            guard try isCurrent(attempt, allowingReceived: true) else { return .stale }
            try execute("UPDATE attempt SET outcome = 'succeeded', finished_at = ? WHERE id = ?", arguments: [FarmRecords.now(), attempt])
            try timeEnded([attempt], .succeeded)
            try execute("""
                UPDATE task SET state = 'done', current_attempt = NULL, result = ?, output_path = ?
                WHERE id = (SELECT task_id FROM attempt WHERE id = ?)
                """, arguments: [result, outputPath, attempt])
            // Listing the unfinished states (rather than `state != 'done'`) lets SQLite answer
            // from the (state, job_id) index instead of reading every task of the job.
            try execute("""
                UPDATE job SET state = 'finishing'
                WHERE id = (SELECT t.job_id FROM attempt a JOIN task t ON t.id = a.task_id WHERE a.id = ?)
                  AND state = 'running'
                  AND NOT EXISTS (SELECT 1 FROM task WHERE state IN ('ready', 'leased', 'failed', 'cancelled') AND job_id = job.id)
                """, arguments: [attempt])
            return .accepted
        }

        /// Ends a current attempt that did not succeed, charging the right budget: a failure
        /// the task caused counts against `budget.failures`, a loss the infrastructure caused
        /// against `budget.losses` (and delays the retry), an undelivered assignment against
        /// nothing. A task out of budget fails, and its job with it.
        func endAttempt(_ attempt: Int64, _ end: AttemptEnd, reason: String) throws -> FailureOutcome {
            // A received result can still fail (its file could not be written); a loss cannot
            // take it back.
            let allowReceived = if case .failed = end { true } else { false }
            guard try isCurrent(attempt, allowingReceived: allowReceived) else { return .stale }
            guard let task = try Row.fetchOne(try db.cachedStatement(sql: """
                SELECT id, job_id, failures, losses FROM task WHERE id = (SELECT task_id FROM attempt WHERE id = ?)
                """), arguments: [attempt]) else { return .stale }
            let taskID: Int64 = task["id"], jobID: String = task["job_id"]
            let now = FarmRecords.now()
            switch end {
            case .undelivered:
                try execute("UPDATE attempt SET outcome = 'undelivered', finished_at = ?, reason = ? WHERE id = ?",
                            arguments: [now, reason, attempt])
                try execute("UPDATE task SET state = 'ready', current_attempt = NULL, attempts = MAX(0, attempts - 1) WHERE id = ?",
                            arguments: [taskID])
                return .requeued
            case .failed(let retryable):
                try execute("UPDATE attempt SET outcome = 'failed', finished_at = ?, reason = ? WHERE id = ?",
                            arguments: [now, reason, attempt])
                try timeEnded([attempt], .failed)
                let failures = (task["failures"] as Int) + 1
                try execute("UPDATE task SET failures = ? WHERE id = ?", arguments: [failures, taskID])
                if retryable && failures < budget.failures {
                    try execute("UPDATE task SET state = 'ready', current_attempt = NULL WHERE id = ?", arguments: [taskID])
                    return .requeued
                }
                let why = retryable ? "task failed \(failures) times: \(reason)" : "task failed: \(reason)"
                return .failedPermanently(job: jobID, cancelled: try failJob(jobID, failedTask: taskID, reason: why))
            case .lost(let cause):
                try execute("UPDATE attempt SET outcome = 'lost', finished_at = ?, reason = ? WHERE id = ?",
                            arguments: [now, cause.rawValue + (reason.isEmpty ? "" : ": " + reason), attempt])
                try timeEnded([attempt], .lost)
                let losses = (task["losses"] as Int) + 1
                if losses < budget.losses {
                    try execute("UPDATE task SET state = 'ready', current_attempt = NULL, losses = ?, not_before = ? WHERE id = ?",
                                arguments: [losses, now + budget.backoff(afterLosses: losses), taskID])
                    return .requeued
                }
                try execute("UPDATE task SET losses = ? WHERE id = ?", arguments: [losses, taskID])
                return .failedPermanently(job: jobID, cancelled: try failJob(
                    jobID, failedTask: taskID, reason: "task lost \(losses) times (last: \(cause.rawValue)); is the farm healthy?"))
            }
        }

        /// Fails a job: the failed task, and every other unfinished task of the job cancelled
        /// (a failed job's tasks must not stay ready for ever). Returns the running attempts it
        /// cancelled, so that their workers can be told to stop.
        func failJob(_ job: String, failedTask: Int64?, reason: String) throws -> [Int64] {
            if let failedTask {
                try execute("UPDATE task SET state = 'failed', current_attempt = NULL WHERE id = ?", arguments: [failedTask])
            }
            try execute("UPDATE job SET state = 'failed', finished_at = ?, reason = ? WHERE id = ? AND state IN ('queued', 'running', 'finishing')",
                        arguments: [FarmRecords.now(), reason, job])
            return try cancelUnfinishedTasks(ofJob: job)
        }

        /// Cancels a job's ready and leased tasks and their running attempts; returns those attempts.
        func cancelUnfinishedTasks(ofJob job: String) throws -> [Int64] {
            let running = try Int64.fetchAll(try db.cachedStatement(sql: """
                SELECT a.id FROM attempt a JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND a.outcome IN ('running', 'received')
                """), arguments: [job])
            try execute("""
                UPDATE attempt SET outcome = 'cancelled', finished_at = ?
                WHERE outcome IN ('running', 'received') AND task_id IN (SELECT id FROM task WHERE job_id = ?)
                """, arguments: [FarmRecords.now(), job])
            try timeEnded(running, .cancelled)
            try execute("UPDATE task SET state = 'cancelled', current_attempt = NULL WHERE job_id = ? AND state IN ('ready', 'leased')",
                        arguments: [job])
            return running
        }

        /// Voids the results of `tasks` (their succeeded or received attempts become lost with
        /// `reason`) and puts them back in the queue, each charged a loss: what a task whose
        /// output cannot stand (a lost file, a shard whose gang lost a member) goes through.
        func reopen(_ tasks: [Int64], reason: String) throws {
            for task in tasks {
                try execute("""
                    UPDATE attempt SET outcome = 'lost', finished_at = ?, reason = ?
                    WHERE task_id = ? AND outcome IN ('succeeded', 'received')
                    """, arguments: [FarmRecords.now(), reason, task])
                try execute("""
                    UPDATE task SET state = 'ready', current_attempt = NULL, output_path = NULL, result = NULL, losses = losses + 1
                    WHERE id = ?
                    """, arguments: [task])
            }
        }

        func jobState(_ id: String) throws -> (kind: String, state: Farm.JobState)? {
            try Row.fetchOne(try db.cachedStatement(sql: "SELECT kind, state FROM job WHERE id = ?"), arguments: [id])
                .flatMap { row in Farm.JobState(rawValue: row["state"]).map { (row["kind"], $0) } }
        }
    }

    /// Runs `body` in one write transaction (committed when it returns, rolled back if it throws).
    /// Its time, waiting for the writer included, goes to the SQLite transaction histogram.
    func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        let start = ContinuousClock.now
        defer { metrics.sqliteTransaction.recordNanoseconds(CoordinatorMetrics.nanoseconds(ContinuousClock.now - start)) }
        return try database.write { db in try body(Transaction(db: db, budget: budget, metrics: metrics)) }
    }

    /// Runs read-only `body` on a snapshot, alongside the writer.
    func reading<T>(_ body: (Transaction) throws -> T) throws -> T {
        try database.read { db in try body(Transaction(db: db, budget: budget)) }
    }
}
