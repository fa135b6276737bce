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
        /// The stage whose shards saved it (`ShardOrder.stageNumber`).
        public var stage: Int
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

    /// The latest complete checkpoint of `job`'s stage `stage` (nil: of any stage), if it has one.
    public func latestCheckpoint(ofJob job: String, stage: Int? = nil) throws -> ExactCheckpoint? {
        try reading { try $0.latestCheckpoint(ofJob: job, stage: stage) }
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

    /// The stored order of a job's first ready shard (of the stage that waits), if any.
    public func firstReadyShardRequest(ofJob job: String) throws -> Data? {
        try database.read { db in
            try Data.fetchOne(db, sql: "SELECT request FROM task WHERE job_id = ? AND kind = 'shard' AND state = 'ready' ORDER BY id LIMIT 1",
                              arguments: [job])
        }
    }

    /// Records that shard `shardIndex` of `shardCount` of stage `stage` saved its state at
    /// `iteration` as blob `sha256` (see `Transaction.recordCheckpoint`).
    public func recordCheckpoint(job: String, stage: Int = 1, iteration: Int, shardIndex: Int, shardCount: Int, sha256: String,
                                 bytes: Int64) throws -> CheckpointProgress {
        try transaction { try $0.recordCheckpoint(job: job, stage: stage, iteration: iteration, shardIndex: shardIndex,
                                                  shardCount: shardCount, sha256: sha256, bytes: bytes) }
    }
}

extension FarmRecords.Transaction {
    /// Records one shard's checkpoint. Once every shard of the stage's iteration is in, the
    /// iteration is marked complete and every other row of the job goes (an older complete
    /// one, rows of an iteration a lost gang never finished, and an earlier stage's, which no
    /// gang resumes now); the blobs only those rows named are returned, for the caller to delete.
    func recordCheckpoint(job: String, stage: Int = 1, iteration: Int, shardIndex: Int, shardCount: Int, sha256: String,
                          bytes: Int64) throws -> FarmRecords.CheckpointProgress {
        try execute("""
            INSERT INTO exact_checkpoint (job_id, stage, iteration, shard_index, shard_count, sha256, bytes, stored_at, complete)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
            ON CONFLICT (job_id, stage, iteration, shard_index) DO UPDATE SET
                shard_count = excluded.shard_count, sha256 = excluded.sha256, bytes = excluded.bytes, stored_at = excluded.stored_at
            """, arguments: [job, stage, iteration, shardIndex, shardCount, sha256, bytes, FarmRecords.now()])
        let stored = try Int.fetchOne(try db.cachedStatement(sql: """
            SELECT COUNT(*) FROM exact_checkpoint WHERE job_id = ? AND stage = ? AND iteration = ? AND shard_count = ? AND shard_index < ?
            """), arguments: [job, stage, iteration, shardCount, shardCount]) ?? 0
        guard stored == shardCount else { return .waiting(stored: stored, of: shardCount) }
        try execute("UPDATE exact_checkpoint SET complete = 1 WHERE job_id = ? AND stage = ? AND iteration = ?",
                    arguments: [job, stage, iteration])
        let older = try String.fetchAll(try db.cachedStatement(sql: """
            SELECT DISTINCT sha256 FROM exact_checkpoint WHERE job_id = ? AND NOT (stage = ? AND iteration = ?)
            """), arguments: [job, stage, iteration])
        try execute("DELETE FROM exact_checkpoint WHERE job_id = ? AND NOT (stage = ? AND iteration = ?)", arguments: [job, stage, iteration])
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

    /// The latest complete checkpoint of a job's stage (nil: the latest stage that has one).
    func latestCheckpoint(ofJob job: String, stage: Int? = nil) throws -> FarmRecords.ExactCheckpoint? {
        let latest = try Row.fetchOne(try db.cachedStatement(sql: """
            SELECT stage, iteration FROM exact_checkpoint WHERE job_id = ? AND complete = 1 AND (? IS NULL OR stage = ?)
            ORDER BY stage DESC, iteration DESC LIMIT 1
            """), arguments: [job, stage, stage])
        guard let latest else { return nil }
        let found: Int = latest["stage"], iteration: Int = latest["iteration"]
        let rows = try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT iteration, shard_index, shard_count, sha256, bytes FROM exact_checkpoint
            WHERE job_id = ? AND complete = 1 AND stage = ? AND iteration = ?
            ORDER BY shard_index
            """), arguments: [job, found, iteration])
        guard let first = rows.first else { return nil }
        return FarmRecords.ExactCheckpoint(jobID: job, stage: found, iteration: first["iteration"], shardCount: first["shard_count"],
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
