import Farm
import Foundation
import GRDB

extension FarmRecords.Transaction {
    /// Stitch tasks whose tiles are all done: the coordinator runs them itself (workers never
    /// get them, see `runnableTasks`).
    func runnableStitches() throws -> [Candidate] {
        try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT t.id, t.job_id, t.key, t.kind, t.request, t.output_name, t.pixels FROM task t JOIN job j ON j.id = t.job_id
            WHERE t.state = 'ready' AND t.kind = 'stitch' AND j.state IN ('queued', 'running') AND t.not_before <= ?
              AND NOT EXISTS (SELECT 1 FROM task_dependency d JOIN task u ON u.id = d.depends_on
                              WHERE d.task_id = t.id AND u.state != 'done')
            ORDER BY t.id
            """), arguments: [FarmRecords.now()]).map { Candidate(taskID: $0["id"], jobID: $0["job_id"], key: $0["key"], kind: $0["kind"],
                                  request: $0["request"], outputName: $0["output_name"], pixels: $0["pixels"]) }
    }

    /// Ready shards of exact tiled jobs whose inputs are done, by job: a job's shards are
    /// leased together or not at all.
    func runnableShards() throws -> [String: [Candidate]] {
        Dictionary(try runnableGangs(), uniquingKeysWith: { first, _ in first })
    }

    /// `runnableShards` in scheduling order: the highest-priority, oldest job first, each job's
    /// shards in task order.
    func runnableGangs() throws -> [(job: String, shards: [Candidate])] {
        var gangs: [(job: String, shards: [Candidate])] = []
        for row in try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT t.id, t.job_id, t.key, t.kind, t.request, t.output_name, t.pixels FROM task t JOIN job j ON j.id = t.job_id
            WHERE t.state = 'ready' AND t.kind = 'shard' AND j.state IN ('queued', 'running') AND t.not_before <= ?
              AND NOT EXISTS (SELECT 1 FROM task_dependency d JOIN task u ON u.id = d.depends_on
                              WHERE d.task_id = t.id AND u.state != 'done')
            ORDER BY j.priority DESC, j.created_at, j.id, t.id
            """), arguments: [FarmRecords.now()]) {
            let candidate = Candidate(taskID: row["id"], jobID: row["job_id"], key: row["key"], kind: row["kind"],
                                      request: row["request"], outputName: row["output_name"], pixels: row["pixels"])
            if gangs.last?.job == candidate.jobID {
                gangs[gangs.count - 1].shards.append(candidate)
            } else {
                gangs.append((candidate.jobID, [candidate]))
            }
        }
        return gangs
    }

    /// A job's priority (nil for an unknown job).
    func priority(ofJob job: String) throws -> Int? {
        try Int.fetchOne(try db.cachedStatement(sql: "SELECT priority FROM job WHERE id = ?"), arguments: [job])
    }

    /// Shards of a job with a running attempt.
    func shardsRunning(ofJob job: String) throws -> Int {
        try Int.fetchOne(try db.cachedStatement(sql: """
            SELECT COUNT(*) FROM task t JOIN attempt a ON a.task_id = t.id
            WHERE t.job_id = ? AND t.kind = 'shard' AND a.outcome = 'running'
            """), arguments: [job]) ?? 0
    }

    /// Puts a running exact job's finished shards (and those whose results are being written)
    /// back in the queue, their results void: the gang runs again as a whole. Each is charged
    /// a loss. Returns the shards reopened.
    ///
    /// Only shards of `stage` (`ShardOrder.stageNumber`): a coarse-to-fine job's earlier
    /// stages are finished and stitched, and the current stage starts from their result.
    func reopenShards(ofJob job: String, stage: Int) throws -> Int {
        guard try String.fetchOne(try db.cachedStatement(sql: "SELECT state FROM job WHERE id = ?"), arguments: [job]) == "running" else { return 0 }
        let shards = try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT id, request FROM task WHERE job_id = ? AND kind = 'shard' AND state IN ('done', 'leased')
              AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.id = task.current_attempt AND a.outcome = 'running')
            """), arguments: [job]).compactMap { row -> Int64? in
            // A request that is no shard order (there are none today) counts as the only stage.
            var found = 1
            if case .shard(let order)? = try? WorkOrder.decode(row["request"]) { found = order.stageNumber }
            return found == stage ? row["id"] : nil
        }
        try reopen(shards, reason: "gang cancelled: another shard was lost; the gang starts again")
        return shards.count
    }

    /// An attempt's outcome: running, succeeded, failed, lost or cancelled.
    func outcome(ofAttempt attempt: Int64) throws -> String? {
        try String.fetchOne(try db.cachedStatement(sql: "SELECT outcome FROM attempt WHERE id = ?"), arguments: [attempt])
    }

    /// Where a finished task's output is stored, by key.
    func outputPath(ofTask key: String, inJob job: String) throws -> String? {
        try String.fetchOne(try db.cachedStatement(sql: """
            SELECT output_path FROM task WHERE job_id = ? AND key = ? AND state = 'done'
            """), arguments: [job, key])
    }

    /// The stored outputs of a job's finished tasks of one kind, by key; only those of `keys`
    /// when given (an exact stage's stitch takes its own stage's shards).
    func outputPaths(ofJob job: String, kind: String, keys: [String]? = nil) throws -> [String: String] {
        var paths: [String: String] = [:]
        let wanted = keys.map(Set.init)
        for row in try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT key, output_path FROM task WHERE job_id = ? AND kind = ? AND state = 'done'
            """), arguments: [job, kind]) {
            let key: String = row["key"]
            if let wanted, !wanted.contains(key) { continue }
            paths[key] = row["output_path"]
        }
        return paths
    }
}
