import Dispatch
import Engine
import Farm
import Foundation
import Protocol
import Synchronization

/// Stores exact shards' checkpoints in the blob store on its own thread: hashing and writing
/// (with fsync) a checkpoint of up to a few hundred MB never holds up the coordinator's loop, nor
/// waits behind a stitch or a job's outputs. Each stored checkpoint comes back through
/// `takeStored()`, waking the loop, which records it and answers the gang once every shard's
/// is in (`CoordinatorService.recordStoredCheckpoints`).
final class CheckpointWriter: Sendable {
    /// Which shard's checkpoint a write is, and the round it answers.
    struct Shard: Sendable, Equatable {
        var jobID: String
        /// The stage of the gang that saved it (`ShardOrder.stageNumber`).
        var stage: Int = 1
        var attemptID: Int64
        var shardIndex: Int
        var shardCount: Int
        var iteration: Int
        /// The exchange round's step (the reply repeats it).
        var step: Int
        var bytes: Int
    }

    struct Stored: Sendable {
        var shard: Shard
        /// The blob's digest once it is on disk; nil when it could not be written (`error`).
        var sha256: String?
        var error: String?
        /// How long hashing and writing took.
        var seconds: Double
    }

    private let queue = DispatchQueue(label: "stylefarm.coordinator.checkpoints")
    private let finished = Mutex<[Stored]>([])
    private let wakeup: ZMQWakeup
    let blobs: BlobStore

    init(blobs: BlobStore, wakeup: ZMQWakeup) {
        self.blobs = blobs
        self.wakeup = wakeup
    }

    /// Hashes `bytes` and stores them as a blob, off the caller's thread.
    func enqueue(_ shard: Shard, bytes: Data) {
        queue.async { [self] in
            let start = ContinuousClock.now
            var stored = Stored(shard: shard, sha256: nil, error: nil, seconds: 0)
            do {
                stored.sha256 = try blobs.store([UInt8](bytes))
            } catch {
                stored.error = "\(error)"
            }
            stored.seconds = (ContinuousClock.now - start).seconds
            finished.withLock { $0.append(stored) }
            wakeup.signal()
        }
    }

    /// Deletes blobs no checkpoint needs any more, off the caller's thread (in order after
    /// every write enqueued before).
    func remove(_ shas: [String]) {
        guard !shas.isEmpty else { return }
        queue.async { [blobs] in
            for sha in shas {
                guard let path = blobs.path(of: sha) else { continue }
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// Checkpoints stored (or not) since the last call, in the order they were enqueued.
    func takeStored() -> [Stored] {
        finished.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    /// Waits until every enqueued write is done.
    func flush() { queue.sync {} }
}
