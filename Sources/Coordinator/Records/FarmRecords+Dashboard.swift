public import Foundation
public import Protocol
import GRDB

/// What the web pages read beside the status document: one job's tasks with their results and
/// current attempts, a running attempt's loss log, and how long the job's attempts took. All
/// reads, on the pool's readers: a page never waits for, or holds up, the loop's writes.
extension FarmRecords {
    public struct DashboardTask: Sendable {
        public var key: String
        public var kind: String
        public var state: String
        public var attempts: Int
        public var outputPath: String?
        /// The finished task's summary JSON.
        public var result: Data?
        /// The attempt whose result would be accepted (the running one while leased).
        public var currentAttempt: Int64?
    }

    /// The job's first `limit` tasks, in planned order.
    public func dashboardTasks(ofJob job: String, limit: Int) throws -> [DashboardTask] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT key, kind, state, attempts, output_path, result, current_attempt FROM task WHERE job_id = ? ORDER BY id LIMIT ?
                """, arguments: [job, max(0, limit)]).map {
                DashboardTask(key: $0["key"], kind: $0["kind"], state: $0["state"], attempts: $0["attempts"],
                              outputPath: $0["output_path"], result: $0["result"], currentAttempt: $0["current_attempt"])
            }
        }
    }

    /// The stored request of one task (a tiled job's stitch plan, a sweep point's work order).
    public func taskRequest(_ key: String, ofJob job: String) throws -> Data? {
        try database.read { db in
            try Data.fetchOne(db, sql: "SELECT request FROM task WHERE job_id = ? AND key = ?", arguments: [job, key])
        }
    }

    /// An attempt's loss log, oldest first: every line when there are at most `limit`,
    /// otherwise `limit` lines spread evenly over it, always with the first and the latest
    /// (a plot needs the shape, not 10 000 points).
    public func lossLines(ofAttempt attempt: Int64, limit: Int) throws -> [LossLine] {
        try database.read { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM loss_line WHERE attempt_id = ?", arguments: [attempt]) ?? 0
            let stride = max(1, (count + max(1, limit) - 1) / max(1, limit))
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY iteration) - 1 AS n,
                                         COUNT(*) OVER () AS total FROM loss_line WHERE attempt_id = ?)
                WHERE n % ? = 0 OR n = total - 1 ORDER BY iteration
                """, arguments: [attempt, stride])
            return rows.map { row in
                LossLine(iteration: row["iteration"], total: row["total"], content: row["content"],
                         styles: (try? JSONDecoder().decode([Double].self, from: Data((row["styles"] as String).utf8))) ?? [],
                         tv: row["tv"], elapsed: row["elapsed"])
            }
        }
    }

    /// How many of the job's attempts succeeded and their mean duration in seconds (for an ETA).
    public func succeededAttemptDurations(ofJob job: String) throws -> (count: Int, meanSeconds: Double) {
        try database.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, AVG(a.finished_at - a.started_at) AS mean FROM attempt a JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND a.outcome = 'succeeded' AND t.kind NOT IN ('stitch', 'style-targets')
                """, arguments: [job])
            return (row?["n"] ?? 0, row?["mean"] ?? 0)
        }
    }
}
