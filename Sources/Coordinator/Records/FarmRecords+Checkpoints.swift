public import Foundation
import GRDB

extension FarmRecords {
    /// One shard's stored checkpoint: the blob that holds its `ExactShardCheckpoint` bytes.
    public struct CheckpointShard: Sendable, Equatable {
        public var shardIndex: Int
        public var sha256: String
        public var bytes: Int64
    }

    /// A complete checkpoint of an exact job: every shard's state at one iteration.
    public struct ExactCheckpoint: Sendable, Equatable {
        public var jobID: String
        public var iteration: Int
        public var shardCount: Int
        /// By shard index, 0..<shardCount.
        public var shards: [CheckpointShard]

        public var bytes: Int64 { shards.reduce(0) { $0 + $1.bytes } }

        /// The shard's stored state, nil when the checkpoint has no such shard.
        public func shard(_ index: Int) -> CheckpointShard? { shards.first { $0.shardIndex == index } }
    }

    /// What recording one shard's checkpoint did.
    public enum CheckpointProgress: Sendable, Equatable {
        /// More shards of the iteration are still to come.
        case waiting(stored: Int, of: Int)
        /// This was the last shard: the iteration is complete, and the job's older checkpoints
        /// were dropped (`dropped` lists their blobs no row refers to any more).
        case complete(dropped: [String])
    }

    /// The latest complete checkpoint of `job`, if it has one.
    public func latestCheckpoint(ofJob job: String) throws -> ExactCheckpoint? {
        try reading { try $0.latestCheckpoint(ofJob: job) }
    }

    /// The stored request (work order) of a job's task, by key.
    public func request(ofTask key: String, inJob job: String) throws -> Data? {
        try database.read { db in try Data.fetchOne(db, sql: "SELECT request FROM task WHERE job_id = ? AND key = ?", arguments: [job, key]) }
    }

    /// A job's ready shards: how many, and the most pixels one renders (nil count 0: none).
    public func readyShards(ofJob job: String) throws -> (count: Int, pixels: Int) {
        try database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MAX(pixels) AS p FROM task WHERE job_id = ? AND kind = 'shard' AND state = 'ready'",
                                       arguments: [job])
            return ((row?["n"] as Int?) ?? 0, (row?["p"] as Int?) ?? 0)
        }
    }

    /// Records that shard `shardIndex` of `shardCount` saved its state at `iteration` as blob
    /// `sha256` (see `Transaction.recordCheckpoint`).
    public func recordCheckpoint(job: String, iteration: Int, shardIndex: Int, shardCount: Int, sha256: String,
                                 bytes: Int64) throws -> CheckpointProgress {
        try transaction { try $0.recordCheckpoint(job: job, iteration: iteration, shardIndex: shardIndex, shardCount: shardCount,
                                                  sha256: sha256, bytes: bytes) }
    }
}

extension FarmRecords.Transaction {
    /// Records one shard's checkpoint. Once every shard of the iteration is in, the iteration is
    /// marked complete and every other iteration's rows of the job go (an older complete one,
    /// and rows of an iteration a lost gang never finished); the blobs only those rows named
    /// are returned, for the caller to delete.
    func recordCheckpoint(job: String, iteration: Int, shardIndex: Int, shardCount: Int, sha256: String,
                          bytes: Int64) throws -> FarmRecords.CheckpointProgress {
        try execute("""
            INSERT INTO exact_checkpoint (job_id, iteration, shard_index, shard_count, sha256, bytes, stored_at, complete)
            VALUES (?, ?, ?, ?, ?, ?, ?, 0)
            ON CONFLICT (job_id, iteration, shard_index) DO UPDATE SET
                shard_count = excluded.shard_count, sha256 = excluded.sha256, bytes = excluded.bytes, stored_at = excluded.stored_at
            """, arguments: [job, iteration, shardIndex, shardCount, sha256, bytes, FarmRecords.now()])
        let stored = try Int.fetchOne(try db.cachedStatement(sql: """
            SELECT COUNT(*) FROM exact_checkpoint WHERE job_id = ? AND iteration = ? AND shard_count = ? AND shard_index < ?
            """), arguments: [job, iteration, shardCount, shardCount]) ?? 0
        guard stored == shardCount else { return .waiting(stored: stored, of: shardCount) }
        try execute("UPDATE exact_checkpoint SET complete = 1 WHERE job_id = ? AND iteration = ?", arguments: [job, iteration])
        let older = try String.fetchAll(try db.cachedStatement(sql: """
            SELECT DISTINCT sha256 FROM exact_checkpoint WHERE job_id = ? AND iteration != ?
            """), arguments: [job, iteration])
        try execute("DELETE FROM exact_checkpoint WHERE job_id = ? AND iteration != ?", arguments: [job, iteration])
        return .complete(dropped: try unreferenced(older))
    }

    /// Rows of checkpoints that are not complete (a gang that stopped between its shards'
    /// saves): a new gang must not mix them with its own. Returns the blobs no row names now.
    func dropIncompleteCheckpoints(ofJob job: String) throws -> [String] {
        let shas = try String.fetchAll(try db.cachedStatement(sql: """
            SELECT DISTINCT sha256 FROM exact_checkpoint WHERE job_id = ? AND complete = 0
            """), arguments: [job])
        try execute("DELETE FROM exact_checkpoint WHERE job_id = ? AND complete = 0", arguments: [job])
        return try unreferenced(shas)
    }

    /// Every checkpoint row of a job (it succeeded: nothing will resume). Returns the blobs no row names now.
    func dropCheckpoints(ofJob job: String) throws -> [String] {
        let shas = try String.fetchAll(try db.cachedStatement(sql: "SELECT DISTINCT sha256 FROM exact_checkpoint WHERE job_id = ?"),
                                       arguments: [job])
        try execute("DELETE FROM exact_checkpoint WHERE job_id = ?", arguments: [job])
        return try unreferenced(shas)
    }

    func latestCheckpoint(ofJob job: String) throws -> FarmRecords.ExactCheckpoint? {
        let rows = try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT iteration, shard_index, shard_count, sha256, bytes FROM exact_checkpoint
            WHERE job_id = ? AND complete = 1 AND iteration = (SELECT MAX(iteration) FROM exact_checkpoint WHERE job_id = ? AND complete = 1)
            ORDER BY shard_index
            """), arguments: [job, job])
        guard let first = rows.first else { return nil }
        return FarmRecords.ExactCheckpoint(jobID: job, iteration: first["iteration"], shardCount: first["shard_count"],
                                           shards: rows.map { FarmRecords.CheckpointShard(shardIndex: $0["shard_index"], sha256: $0["sha256"],
                                                                                          bytes: $0["bytes"]) })
    }

    /// Whether a checkpoint row (of any job) names blob `sha`.
    func isCheckpointBlob(_ sha: String) throws -> Bool {
        try Int.fetchOne(try db.cachedStatement(sql: "SELECT COUNT(*) FROM exact_checkpoint WHERE sha256 = ?"), arguments: [sha]) ?? 0 > 0
    }

    /// Of `shas`, those no checkpoint row names (any job's).
    private func unreferenced(_ shas: [String]) throws -> [String] {
        try shas.filter { try !isCheckpointBlob($0) }
    }
}
