public import Engine
public import Foundation
import Protocol
import Farm

/// The files of a finished tiled job in `DIR/jobs/<id>/`, besides `output.png` (the stitch),
/// `coarse.png`, `style-targets.grams` and `tiles/tile-rN-cM.png` (every tile's window, 16-bit):
/// `losses.csv` (every loss line of every attempt: the coarse pass's and each tile's) and
/// `job.json` (the spec, and each task's result summary and attempts).
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
    }

    public static func write(jobID: String, records: FarmRecords, directory: String, weightsSHA256: String? = nil) throws {
        guard let specData = try records.jobSpec(jobID) else { return }
        let spec = try JSONDecoder().decode(TiledSpec.self, from: specData)
        try JobOutputs.writeLosses(jobID: jobID, records: records, directory: directory, styleCount: spec.base.stylePaths.count,
                                   parameters: [:], sigmas: [:])
        let results = Dictionary(uniqueKeysWithValues: try records.finishedTasks(ofJob: jobID).map { ($0.key, $0) })
        let tasks = try records.tasks(ofJob: jobID).map { task in
            Manifest.Task(key: task.key, kind: task.kind, attempts: task.attempts, output: task.outputPath,
                          summary: try results[task.key]?.result.map { try JSONValue(jsonData: $0) })
        }
        let manifest = Manifest(jobID: jobID, weightsSHA256: weightsSHA256, spec: try JSONValue(jsonData: specData),
                                output: directory + "/" + TiledPlanner.outputName, tasks: tasks)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: directory + "/job.json"), options: .atomic)
    }
}
