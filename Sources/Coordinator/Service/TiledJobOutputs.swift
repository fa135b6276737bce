public import Engine
public import Foundation
import Protocol
import Farm

/// The files of a finished tiled job in `DIR/jobs/<id>/`, besides `output.png` (the stitch, with
/// `preview.png` when it is larger than 1600 px), `coarse.png`, `style-targets.grams` and
/// `tiles/tile-rN-cM.png` (every tile's window, 16-bit) or `shards/shard-N.png`: `index.html`
/// (the page to open: output, coarse pass, tile grid, loss curves, every file),
/// `losses/<part>.svg` (the loss curves of the coarse pass and of each tile or shard),
/// `losses.csv` (every loss line of every attempt) and `job.json` (the spec, and each task's
/// result summary and attempts).
public enum TiledJobOutputs {
    struct Manifest: Encodable {
        struct Task: Encodable {
            var key: String
            var kind: String
            var attempts: Int
            var output: String?
            var summary: JSONValue?
        }

        var jobID: String
        var kind = "tiled"
        var styleFarmVersion = JobOutputs.version
        /// The coordinator's weights, which every worker's were checked against.
        var weightsSHA256: String?
        var spec: JSONValue
        var output: String
        var tasks: [Task]
        /// Exact mode: how the shards ran.
        var exact: ExactSummary?
    }

    /// What an exact job's shards were planned with, and its latest checkpoint.
    struct ExactSummary: Encodable, Equatable {
        struct Checkpoint: Encodable, Equatable {
            var iteration: Int
            var bytes: Int64
        }

        /// `wide-halo` or `gradient-exchange`.
        var scheme: String
        var halo: Int?
        var shards: Int
        var columns: Int?
        /// 0: no checkpoints.
        var checkpointEvery: Int
        var optimizer: String
        /// Each scheme's estimate (`ExactSchemeCost`): the largest shard's window pixels.
        var estimatedWindowPixels: [String: Int]
        var checkpoint: Checkpoint?
        /// Every stage, coarse to fine (one for a job without --scale-sizes): its size, shards,
        /// windows across, scheme and the memory model's peak for its largest shard.
        var stages: [ExactStagePlan]

        /// The summary of `job`'s shard orders, nil for a job without shards.
        static func of(job: String, records: FarmRecords) throws -> ExactSummary? {
            guard let stored = try records.request(ofTask: "shard-1", inJob: job),
                  case .shard(let order) = try WorkOrder.decode(stored) else { return nil }
            let settings = try order.render.resolvingTaskReferences().resolve()
            let scheme = order.scheme ?? .wideHalo
            var estimates: [String: Int] = [:]
            for candidate in ExactTileStep.Scheme.allCases {
                let estimate = try? ExactSchemeCost().estimate(candidate, width: order.outputWidth, height: order.outputHeight, tile: order.tile,
                                                               shards: order.shardCount, layers: TiledPlanner.tappedLayers(settings),
                                                               halo: candidate == scheme ? order.halo : nil, lbfgs: settings.optimizer == .lbfgs)
                estimates[ExactSchemeCost.name(candidate)] = estimate?.windowPixels
            }
            let checkpoint = try records.latestCheckpoint(ofJob: job)
            let stages = try Self.stages(ofJob: job, records: records)
            return ExactSummary(scheme: ExactSchemeCost.name(scheme), halo: order.halo, shards: order.shardCount, columns: order.columns,
                                checkpointEvery: order.checkpointEvery ?? 0, optimizer: settings.optimizer.rawValue,
                                estimatedWindowPixels: estimates,
                                checkpoint: checkpoint.map { Checkpoint(iteration: $0.iteration, bytes: $0.bytes) }, stages: stages)
        }

        /// The stages of `job` as its shard orders were planned.
        static func stages(ofJob job: String, records: FarmRecords) throws -> [ExactStagePlan] {
            var orders: [Int: [ShardOrder]] = [:]
            for task in try records.tasks(ofJob: job) where task.kind == PlannedTask.Kind.shard.rawValue {
                guard let stored = try records.request(ofTask: task.key, inJob: job),
                      case .shard(let order) = try WorkOrder.decode(stored) else { continue }
                orders[order.stageNumber, default: []].append(order)
            }
            return try orders.keys.sorted().compactMap { stage in
                guard let shards = orders[stage], let first = shards.first else { return nil }
                let peak = try shards.map { try $0.predictedPeakBytes() }.max() ?? 0
                return ExactStagePlan(stage: stage, width: first.outputWidth, height: first.outputHeight,
                                      iterations: try first.render.resolvingTaskReferences().resolve().iterations,
                                      shards: first.shardCount, columns: first.columns ?? 1,
                                      scheme: ExactSchemeCost.name(first.scheme ?? .wideHalo), predictedPeakMb: (peak + (1 << 20) - 1) >> 20)
            }
        }
    }

    public static func write(jobID: String, records: FarmRecords, directory: String, weightsSHA256: String? = nil) throws {
        guard let specData = try records.jobSpec(jobID) else { return }
        let spec = try JSONDecoder().decode(TiledSpec.self, from: specData)
        let names = JobOutputs.styleNames(spec.styleNames, count: spec.base.stylePaths.count)
        let lines = try records.lossLines(ofJob: jobID)
        try JobOutputs.writeLosses(lines, directory: directory, styleCount: spec.base.stylePaths.count, parameters: [:], sigmas: [:])
        let finished = try records.finishedTasks(ofJob: jobID)
        let results = Dictionary(uniqueKeysWithValues: finished.map { ($0.key, $0) })
        let tasks = try records.tasks(ofJob: jobID).map { task in
            Manifest.Task(key: task.key, kind: task.kind, attempts: task.attempts, output: task.outputPath,
                          summary: try results[task.key]?.result.map { try JSONValue(jsonData: $0) })
        }
        // The coarse pass, tiles and shards draw loss curves; the targets and the stitch have none.
        let drawn = try records.tasks(ofJob: jobID).filter { ["coarse", "tile", "shard"].contains($0.kind) }
        let outputNames = Dictionary(uniqueKeysWithValues: drawn.compactMap { task in results[task.key].map { (task.key, $0.outputName) } })
        let plots = try LossCurveFiles.write(lastAttempts: LossCurveFiles.lastAttempts(lines), outputNames: outputNames,
                                             titles: [:], styleNames: names, directory: directory)
        OutputWriter.flushFileSystem(of: directory)   // the loss plots, written without a flush each
        let exact = spec.mode == .exact ? try ExactSummary.of(job: jobID, records: records) : nil
        let manifest = Manifest(jobID: jobID, weightsSHA256: weightsSHA256, spec: try JSONValue(jsonData: specData),
                                output: directory + "/" + TiledPlanner.outputName, tasks: tasks, exact: exact)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: directory + "/job.json"), options: .atomic)

        // Last, so that it lists every other file.
        let parts = drawn.compactMap { task -> JobIndexPage.TiledPart? in
            guard let kind = PlannedTask.Kind(rawValue: task.kind), let result = results[task.key] else { return nil }
            let summary = result.result.flatMap { try? JSONDecoder().decode(RenderSummary.self, from: $0) }
            return JobIndexPage.TiledPart(key: task.key, kind: kind, outputName: result.outputName, finalLosses: summary?.finalLosses,
                                          lossPlotFile: plots[task.key]?.file, lossPlotSVG: plots[task.key]?.svg)
        }
        let outputSize = results[TiledPlanner.stitchKey]?.result.flatMap { try? JSONDecoder().decode(TileStitching.Summary.self, from: $0) }
        let page = JobIndexPage.tiled(jobID: jobID, spec: spec, styleNames: names, parts: parts,
                                      outputSize: outputSize.map { ($0.width, $0.height) },
                                      finishedAt: ISO8601DateFormatter().string(from: Date()), files: JobFolderFiles(directory: directory),
                                      stages: exact?.stages ?? [])
        try FileBytes.writeAtomically(Array(page.utf8), to: directory + "/" + JobIndexPage.fileName, what: "the job's index page")
    }
}
