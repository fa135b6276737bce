import Engine
import Foundation
import GRDB
import Protocol

extension FarmRecords {
    /// The hot-path operations (leases, progress, results, failures) inside one write
    /// transaction. The coordinator handles a whole batch of messages, and leases the tasks
    /// they free, in one commit: SQLite then pays one WAL append per batch rather than one per
    /// message, which is what lets one coordinator serve thousands of tasks a second.
    struct Transaction {
        let db: Database
        let maximumAttempts: Int

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
            let jobs = try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT id FROM job WHERE state IN ('queued', 'running') ORDER BY priority DESC, created_at
                """)).map { $0["id"] as String }
            for job in jobs where !excludedJobs.contains(job) {
                let rows = try Row.fetchAll(try db.cachedStatement(sql: """
                    SELECT t.id, t.key, t.kind, t.request, t.output_name FROM task t
                    WHERE t.state = 'ready' AND t.job_id = ? AND t.kind NOT IN ('stitch', 'shard')
                      AND NOT EXISTS (SELECT 1 FROM task_dependency d JOIN task u ON u.id = d.depends_on
                                      WHERE d.task_id = t.id AND u.state != 'done')
                    ORDER BY t.id LIMIT ?
                    """), arguments: [job, limit - candidates.count])
                candidates += rows.map { Candidate(taskID: $0["id"], jobID: job, key: $0["key"], kind: $0["kind"],
                                                   request: $0["request"], outputName: $0["output_name"]) }
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

        /// Per worker, the jobs in which it has failed at least `threshold` times: it gets no
        /// more of their tasks. One query for every worker, once per batch.
        func blockedJobs(threshold: Int) throws -> [String: Set<String>] {
            var blocked: [String: Set<String>] = [:]
            for row in try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT a.worker_id, t.job_id FROM attempt a JOIN task t ON t.id = a.task_id
                WHERE a.outcome = 'failed' GROUP BY a.worker_id, t.job_id HAVING COUNT(*) >= ?
                """), arguments: [threshold]) {
                blocked[row["worker_id"], default: []].insert(row["job_id"])
            }
            return blocked
        }

        /// The stored result (summary JSON) of a finished task, by key.
        func result(ofTask key: String, inJob job: String) throws -> Data? {
            try Data.fetchOne(try db.cachedStatement(sql: "SELECT result FROM task WHERE job_id = ? AND key = ? AND state = 'done'"), arguments: [job, key])
        }

        // MARK: Attempts

        /// Where an attempt's output goes, without decoding its request: the result path needs
        /// only this.
        func outputOfAttempt(_ attempt: Int64) throws -> (jobID: String, key: String, outputName: String)? {
            try Row.fetchOne(try db.cachedStatement(sql: """
                SELECT t.job_id, t.key, t.output_name FROM attempt a JOIN task t ON t.id = a.task_id WHERE a.id = ?
                """), arguments: [attempt]).map { ($0["job_id"], $0["key"], $0["output_name"]) }
        }

        /// Whether `attempt` is the one its task is leased under (found through the attempt's
        /// primary key: task.current_attempt has no index).
        func isCurrent(_ attempt: Int64) throws -> Bool {
            try Bool.fetchOne(try db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM attempt a JOIN task t ON t.id = a.task_id
                               WHERE a.id = ? AND t.current_attempt = a.id AND a.outcome = 'running' AND t.state = 'leased')
                """), arguments: [attempt]) ?? false
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

        /// Completes the task of a current attempt; finishes the job when it was the last task.
        func completeAttempt(_ attempt: Int64, result: Data, outputPath: String) throws -> AttemptOutcome {
            guard try isCurrent(attempt) else { return .stale }
            try execute("UPDATE attempt SET outcome = 'succeeded', finished_at = ? WHERE id = ?", arguments: [FarmRecords.now(), attempt])
            try execute("""
                UPDATE task SET state = 'done', current_attempt = NULL, result = ?, output_path = ?
                WHERE id = (SELECT task_id FROM attempt WHERE id = ?)
                """, arguments: [result, outputPath, attempt])
            // Listing the unfinished states (rather than `state != 'done'`) lets SQLite answer
            // from the (state, job_id) index instead of reading every task of the job.
            try execute("""
                UPDATE job SET state = 'succeeded', finished_at = ?
                WHERE id = (SELECT t.job_id FROM attempt a JOIN task t ON t.id = a.task_id WHERE a.id = ?)
                  AND state = 'running'
                  AND NOT EXISTS (SELECT 1 FROM task WHERE state IN ('ready', 'leased', 'failed', 'cancelled') AND job_id = job.id)
                """, arguments: [FarmRecords.now(), attempt])
            return .accepted
        }

        /// Fails a current attempt: the task goes back to the queue while it has attempts left
        /// (and `retryable`), else it and its job fail.
        func failAttempt(_ attempt: Int64, reason: String, retryable: Bool, outcome: String = "failed") throws -> FailureOutcome {
            guard try isCurrent(attempt) else { return .stale }
            try execute("UPDATE attempt SET outcome = ?, finished_at = ?, reason = ? WHERE id = ?",
                           arguments: [outcome, FarmRecords.now(), reason, attempt])
            guard let task = try Row.fetchOne(try db.cachedStatement(sql: "SELECT id, job_id, attempts FROM task WHERE id = (SELECT task_id FROM attempt WHERE id = ?)"),
                                              arguments: [attempt]) else { return .stale }
            let attempts: Int = task["attempts"]
            if retryable && attempts < maximumAttempts {
                try execute("UPDATE task SET state = 'ready', current_attempt = NULL WHERE id = ?", arguments: [task["id"] as Int64])
                return .requeued
            }
            try execute("UPDATE task SET state = 'failed', current_attempt = NULL WHERE id = ?", arguments: [task["id"] as Int64])
            try execute("UPDATE job SET state = 'failed', finished_at = ?, reason = ? WHERE id = ? AND state IN ('queued', 'running')",
                           arguments: [FarmRecords.now(), "task failed after \(attempts) attempts: \(reason)", task["job_id"] as String])
            return .failedPermanently
        }

        func jobState(_ id: String) throws -> (kind: String, state: String)? {
            try Row.fetchOne(try db.cachedStatement(sql: "SELECT kind, state FROM job WHERE id = ?"), arguments: [id]).map { ($0["kind"], $0["state"]) }
        }
    }

    /// Runs `body` in one write transaction (committed when it returns, rolled back if it throws).
    func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        try database.write { db in try body(Transaction(db: db, maximumAttempts: maximumAttempts)) }
    }

    /// Runs read-only `body` on a snapshot, alongside the writer.
    func reading<T>(_ body: (Transaction) throws -> T) throws -> T {
        try database.read { db in try body(Transaction(db: db, maximumAttempts: maximumAttempts)) }
    }
}
