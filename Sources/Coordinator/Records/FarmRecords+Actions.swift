public import Foundation
import GRDB

/// What operators change on a running farm: job priorities, workers blocked for a job, workers
/// drained. Blocks and drains are keyed by the worker's name (see the `v5-operator-actions`
/// migration).
extension FarmRecords {
    /// A worker blocked for a job, and why.
    public struct WorkerBlock: Sendable, Equatable {
        public var jobID: String
        public var worker: String
        public var reason: String
        /// Who asked, or "automatic".
        public var blockedBy: String
        public var automatic: Bool
        public var createdAt: Double
    }

    /// Sets a queued or running job's priority; returns the priority it had, or nil when the
    /// job is unknown or finished (`job(_:)` tells which).
    public func setPriority(ofJob job: String, to priority: Int) throws -> Int? {
        try transaction { tx in
            guard let old = try Int.fetchOne(tx.db, sql: "SELECT priority FROM job WHERE id = ? AND state IN ('queued', 'running')",
                                             arguments: [job]) else { return nil }
            try tx.execute("UPDATE job SET priority = ? WHERE id = ?", arguments: [priority, job])
            return old
        }
    }

    /// Blocks `worker` (a name) for `job`; false when it already was (the first reason stands).
    public func block(worker: String, job: String, reason: String, by requester: String, automatic: Bool = false) throws -> Bool {
        try transaction { try $0.block(worker: worker, job: job, reason: reason, by: requester, automatic: automatic) }
    }

    /// Lifts a block; false when there was none.
    public func unblock(worker: String, job: String) throws -> Bool {
        try database.write { db in
            try db.execute(sql: "DELETE FROM worker_block WHERE job_id = ? AND worker_name = ?", arguments: [job, worker])
            return db.changesCount > 0
        }
    }

    /// Every block, or those of `job`, oldest first.
    public func blocks(ofJob job: String? = nil) throws -> [WorkerBlock] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT job_id, worker_name, reason, blocked_by, automatic, created_at FROM worker_block
                WHERE ? IS NULL OR job_id = ? ORDER BY created_at
                """, arguments: [job, job]).map(Self.workerBlock)
        }
    }

    /// Blocks of the jobs that may still lease tasks (what a worker's status lists).
    public func activeBlocks() throws -> [WorkerBlock] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT b.job_id, b.worker_name, b.reason, b.blocked_by, b.automatic, b.created_at
                FROM worker_block b JOIN job j ON j.id = b.job_id
                WHERE j.state IN ('queued', 'running') ORDER BY b.created_at
                """).map(Self.workerBlock)
        }
    }

    static func workerBlock(_ row: Row) -> WorkerBlock {
        WorkerBlock(jobID: row["job_id"], worker: row["worker_name"], reason: row["reason"], blockedBy: row["blocked_by"],
                    automatic: row["automatic"], createdAt: row["created_at"])
    }

    /// Drains (or undrains) a worker by name; false when it already was (or was not).
    public func setDrained(worker: String, _ drained: Bool, by requester: String) throws -> Bool {
        try database.write { db in
            if drained {
                try db.execute(sql: "INSERT OR IGNORE INTO worker_drain (worker_name, drained_by, created_at) VALUES (?, ?, ?)",
                               arguments: [worker, requester, Self.now()])
            } else {
                try db.execute(sql: "DELETE FROM worker_drain WHERE worker_name = ?", arguments: [worker])
            }
            return db.changesCount > 0
        }
    }

    /// The names of the drained workers.
    public func drainedWorkers() throws -> Set<String> {
        try database.read { db in Set(try String.fetchAll(db, sql: "SELECT worker_name FROM worker_drain")) }
    }

    /// The name a worker is known by, given its name or one of its session ids; nil when the
    /// records have never seen it (nor hold a block or a drain for that name).
    public func workerName(matching worker: String) throws -> String? {
        try database.read { db in
            try String.fetchOne(db, sql: """
                SELECT name FROM worker WHERE id = ?1
                UNION ALL SELECT name FROM worker WHERE name = ?1
                UNION ALL SELECT worker_name FROM worker_block WHERE worker_name = ?1
                UNION ALL SELECT worker_name FROM worker_drain WHERE worker_name = ?1
                LIMIT 1
                """, arguments: [worker])
        }
    }

    /// Failures each worker (by name, over all its sessions the records keep) caused: attempts
    /// that ended `failed`, not those lost to the infrastructure.
    public func failuresByWorkerName() throws -> [String: Int] {
        try database.read { db in
            var failures: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT w.name, COUNT(*) AS n FROM attempt a JOIN worker w ON w.id = a.worker_id
                WHERE a.outcome = 'failed' GROUP BY w.name
                """) {
                failures[row["name"]] = row["n"]
            }
            return failures
        }
    }
}

extension FarmRecords.Transaction {
    func block(worker: String, job: String, reason: String, by requester: String, automatic: Bool) throws -> Bool {
        try execute("""
            INSERT OR IGNORE INTO worker_block (job_id, worker_name, reason, blocked_by, automatic, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [job, worker, reason, requester, automatic, FarmRecords.now()])
        return db.changesCount > 0
    }

    /// Per worker name, the queued or running jobs it is blocked for: one small query per
    /// lease batch (the table holds only what operators and repeated failures put there).
    func blockedJobsByWorkerName() throws -> [String: Set<String>] {
        var blocked: [String: Set<String>] = [:]
        for row in try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT b.worker_name, b.job_id FROM worker_block b JOIN job j ON j.id = b.job_id
            WHERE j.state IN ('queued', 'running')
            """)) {
            blocked[row["worker_name"], default: []].insert(row["job_id"])
        }
        return blocked
    }

    /// After a failed attempt: when its worker (by name) has now failed `threshold` of the
    /// job's attempts, it is blocked for the job, with the reason. Returns the new block.
    func blockAfterFailure(of attempt: Int64, threshold: Int) throws -> FarmRecords.WorkerBlock? {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: """
            SELECT w.name, t.job_id FROM attempt a JOIN task t ON t.id = a.task_id JOIN worker w ON w.id = a.worker_id
            WHERE a.id = ? AND a.outcome = 'failed'
            """), arguments: [attempt]) else { return nil }
        let name: String = row["name"], job: String = row["job_id"]
        let failures = try Int.fetchOne(try db.cachedStatement(sql: """
            SELECT COUNT(*) FROM attempt a JOIN task t ON t.id = a.task_id JOIN worker w ON w.id = a.worker_id
            WHERE t.job_id = ? AND w.name = ? AND a.outcome = 'failed'
            """), arguments: [job, name]) ?? 0
        guard failures >= threshold else { return nil }
        let reason = "failed \(failures) of the job's tasks (the limit is \(threshold))"
        guard try block(worker: name, job: job, reason: reason, by: "automatic", automatic: true) else { return nil }
        return FarmRecords.WorkerBlock(jobID: job, worker: name, reason: reason, blockedBy: "automatic", automatic: true,
                                       createdAt: FarmRecords.now())
    }
}
