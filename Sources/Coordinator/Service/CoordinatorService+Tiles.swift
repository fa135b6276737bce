import Engine
import Farm
import Foundation
import Logging
import Protocol

extension CoordinatorService {
    /// A stitch the coordinator runs itself once all of a job's tiles are done.
    struct StitchJob {
        var attemptID: Int64
        var jobID: String
        var key: String
        var plan: StitchPlan
        var tiles: [String: String]
        var path: String
    }

    /// The id stitch attempts are recorded under: the coordinator's own work.
    static let coordinatorWorkerID = "coordinator"

    /// A tile's stored order as it goes to a worker: its `task:<key>` inputs (the coarse pass,
    /// the style targets) replaced by blob references to those tasks' stored results, which
    /// workers fetch like any input. A shard resuming from a checkpoint gets `resumePath` (a
    /// `blob:` reference to its stored checkpoint, fetched the same way).
    func resolvedOrder(_ candidate: FarmRecords.Transaction.Candidate, _ tx: FarmRecords.Transaction,
                       resumePath: String? = nil) throws -> JSONValue {
        var order = try WorkOrder.decode(candidate.request).mappingPaths { path in
            guard path.hasPrefix(TiledPlanner.taskReference) else { return path }
            let key = String(path.dropFirst(TiledPlanner.taskReference.count))
            guard let file = try tx.outputPath(ofTask: key, inJob: candidate.jobID) else {
                throw EngineError(.invalidArgument, "task \(candidate.key) needs the result of \(key), which is not done")
            }
            guard let blob = BlobReference(sha256: try blobOfResult(file)) else {
                throw EngineError(.failed, "the stored result of \(key) has no valid digest")
            }
            return blob.description
        }
        if case .shard(var shard) = order {
            shard.resumePath = resumePath
            order = .shard(shard)
        }
        return try JSONValue(jsonData: try order.encoded())
    }

    /// The blob digest of a stored result file, copied into the blob store the first time.
    private func blobOfResult(_ path: String) throws -> String {
        if let sha = resultBlobs[path] { return sha }
        let sha = try blobs.storeFile(path, maxBytes: 1 << 30)
        resultBlobs[path] = sha
        return sha
    }

    /// Leases the stitches that are ready to the coordinator itself.
    func startStitches(_ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws {
        for candidate in try tx.runnableStitches() {
            let plan = try JSONDecoder().decode(StitchPlan.self, from: candidate.request)
            let parts: PlannedTask.Kind = plan.bands == nil ? .tile : .shard
            let tiles = try tx.outputPaths(ofJob: candidate.jobID, kind: parts.rawValue, keys: plan.bands)
            let attemptID = try tx.recordAttempt(candidate, by: Self.coordinatorWorkerID)
            effects.stitches.append(StitchJob(attemptID: attemptID, jobID: candidate.jobID, key: candidate.key, plan: plan,
                                              tiles: tiles, path: jobDirectory(candidate.jobID) + "/" + candidate.outputName))
        }
    }

    /// Runs a stitch off the loop thread; it is recorded like a result once the PNG is written.
    func run(_ stitch: StitchJob) {
        logger.info("stitching", metadata: ["job.id": "\(stitch.jobID)", "size": "\(stitch.plan.width)x\(stitch.plan.height)"])
        let (plan, tiles, path) = (stitch.plan, stitch.tiles, stitch.path)
        outputs.enqueue(.init(attemptID: stitch.attemptID, jobID: stitch.jobID, key: stitch.key, path: path, image: Data(), summary: Data())) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return try encoder.encode(try TileStitching.stitch(plan, tiles: tiles, to: path))
        }
    }

    func jobDirectory(_ job: String) -> String { configuration.dataDirectory + "/jobs/" + job }
}
