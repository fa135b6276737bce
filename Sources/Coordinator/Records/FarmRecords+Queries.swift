import Engine
import Farm
public import Foundation
public import Protocol
import GRDB

extension FarmRecords {
    /// The stored result (summary JSON) of a finished task, by key.
    public func result(ofTask key: String, inJob job: String) throws -> Data? {
        try reading { try $0.result(ofTask: key, inJob: job) }
    }

    public struct FinishedTask: Sendable {
        public var key: String
        public var outputName: String
        public var outputPath: String?
        public var result: Data?
    }

    public func finishedTasks(ofJob job: String) throws -> [FinishedTask] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT key, output_name, output_path, result FROM task WHERE job_id = ? AND state = 'done' ORDER BY id",
                             arguments: [job])
                .map { FinishedTask(key: $0["key"], outputName: $0["output_name"], outputPath: $0["output_path"], result: $0["result"]) }
        }
    }

    /// Every loss line of a job: task key, attempt, line.
    public func lossLines(ofJob job: String) throws -> [(key: String, attempt: Int64, line: LossLine)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.key, l.* FROM loss_line l JOIN attempt a ON a.id = l.attempt_id JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? ORDER BY t.id, l.attempt_id, l.iteration
                """, arguments: [job]).map { row in
                (row["key"], row["attempt_id"], LossLine(
                    iteration: row["iteration"], total: row["total"], content: row["content"],
                    styles: (try? JSONDecoder().decode([Double].self, from: Data((row["styles"] as String).utf8))) ?? [],
                    tv: row["tv"], elapsed: row["elapsed"]))
            }
        }
    }

    /// The running attempts of a job (attempt id, task id): what a cancel must stop on workers.
    public func runningAttempts(ofJob job: String) throws -> [(attempt: Int64, task: Int64)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.id, a.task_id FROM attempt a JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND a.outcome = 'running'
                """, arguments: [job]).map { ($0["id"], $0["task_id"]) }
        }
    }

    /// The jobs a farm-wide status lists: unfinished ones first, then the newest, at most `limit`.
    public func jobsForStatus(limit: Int) throws -> [JobState] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, kind, state, priority, reason FROM job
                ORDER BY state IN ('queued', 'running', 'finishing') DESC, created_at DESC LIMIT ?
                """, arguments: [limit]).map(Self.jobState)
        }
    }

    /// Every job by state.
    public func jobCounts() throws -> [String: Int] {
        try database.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") { counts[row["state"]] = row["n"] }
            return counts
        }
    }

    /// Tasks per state for a job (for status and watch).
    public func taskCounts(ofJob job: String) throws -> [String: Int] {
        try database.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM task WHERE job_id = ? GROUP BY state", arguments: [job]) {
                counts[row["state"]] = row["n"]
            }
            return counts
        }
    }
}

extension FarmRecords {
    public struct RunningTask: Sendable, Equatable {
        public var key: String
        public var worker: String
        public var iteration: Int
        public var iterations: Int
        public var elapsed: Double
    }

    /// The tasks of a job that are rendering now, with their latest loss line (for `watch`).
    public func runningTasks(ofJob job: String) throws -> [RunningTask] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.key, t.request, a.worker_id,
                       (SELECT MAX(iteration) FROM loss_line WHERE attempt_id = a.id) AS iteration,
                       (SELECT elapsed FROM loss_line WHERE attempt_id = a.id ORDER BY iteration DESC LIMIT 1) AS elapsed
                FROM task t JOIN attempt a ON a.id = t.current_attempt
                WHERE t.job_id = ? AND t.state = 'leased' ORDER BY t.id
                """, arguments: [job]).map { row in
                let request = try? WorkOrder.decode(row["request"] as Data).request
                return RunningTask(key: row["key"], worker: row["worker_id"], iteration: row["iteration"] ?? 0,
                                   iterations: (try? request?.resolve().plannedIterations) ?? 0, elapsed: row["elapsed"] ?? 0)
            }
        }
    }

    /// Each worker's running attempt (the latest, if it somehow holds several): job, task key,
    /// latest iteration and elapsed seconds from its loss log.
    public func runningAttemptsByWorker() throws -> [String: (jobID: String, key: String, iteration: Int, elapsed: Double)] {
        try database.read { db in
            var byWorker: [String: (jobID: String, key: String, iteration: Int, elapsed: Double)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT a.worker_id, t.job_id, t.key,
                       (SELECT MAX(iteration) FROM loss_line WHERE attempt_id = a.id) AS iteration,
                       (SELECT elapsed FROM loss_line WHERE attempt_id = a.id ORDER BY iteration DESC LIMIT 1) AS elapsed
                FROM attempt a JOIN task t ON t.id = a.task_id WHERE a.outcome = 'running' ORDER BY a.id
                """) {
                byWorker[row["worker_id"]] = (row["job_id"], row["key"], row["iteration"] ?? 0, row["elapsed"] ?? 0)
            }
            return byWorker
        }
    }

    /// The most pixels a ready task of `job` renders at once (nil when none is ready).
    public func largestReadyTask(ofJob job: String) throws -> Int? {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT MAX(pixels) FROM task WHERE job_id = ? AND state = 'ready'", arguments: [job])
        }
    }

    /// Every task by state and every attempt by outcome (for `/metrics`).
    public func farmCounts() throws -> (tasks: [String: Int], attempts: [String: Int]) {
        try database.read { db in
            var tasks: [String: Int] = [:], attempts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM task GROUP BY state") { tasks[row["state"]] = row["n"] }
            for row in try Row.fetchAll(db, sql: "SELECT outcome, COUNT(*) AS n FROM attempt GROUP BY outcome") { attempts[row["outcome"]] = row["n"] }
            return (tasks, attempts)
        }
    }
}
