public import Protocol
import Engine

// A tiled job's entry also has "tiles": its grid as one string per tile row, one character per
// tile ('·' waiting, '▒' rendering, '█' done, '✗' failed), and the states of its coarse pass,
// style targets and stitch.

/// The status document `stylefarm status` shows: jobs with task counts, and connected workers.
public enum FarmStatus {
    public static func document(records: FarmRecords, jobID: String?, workers: [(id: String, threads: Int)],
                                dataDirectory: String) throws -> JSONValue {
        var jobs: [JSONValue] = []
        for job in try records.jobs() where jobID == nil || job.id == jobID {
            let counts = try records.taskCounts(ofJob: job.id)
            let running = try records.runningTasks(ofJob: job.id).map { task -> JSONValue in
                .object(["key": .string(task.key), "worker": .string(task.worker), "iteration": .int(Int64(task.iteration)),
                         "iterations": .int(Int64(task.iterations)), "elapsed": .double(task.elapsed)])
            }
            var fields: [String: JSONValue] = [
                "running": .array(running),
                "id": .string(job.id), "kind": .string(job.kind), "state": .string(job.state),
                "priority": .int(Int64(job.priority)), "reason": job.reason.map(JSONValue.string) ?? .null,
                "tasks": .object(counts.mapValues { .int(Int64($0)) }),
                "directory": .string(dataDirectory + "/jobs/" + job.id),
            ]
            if job.kind == "tiled" { fields["tiles"] = try tileGrid(records.tasks(ofJob: job.id)) }
            jobs.append(.object(fields))
        }
        return .object([
            "jobs": .array(jobs),
            "workers": .array(workers.map { .object(["id": .string($0.id), "threads": .int(Int64($0.threads))]) }),
        ])
    }

    /// The grid of a tiled job's tiles by state, from their `tile-rN-cM` keys.
    static func tileGrid(_ tasks: [FarmRecords.TaskState]) -> JSONValue {
        var cells: [TilePosition: Character] = [:]
        var stages: [String: JSONValue] = [:]
        for task in tasks {
            guard let position = try? TilePosition(key: task.key) else {
                stages[task.key] = .string(task.state)
                continue
            }
            cells[position] = switch task.state {
            case "done": "█"
            case "leased": "▒"
            case "failed", "cancelled": "✗"
            default: "·"
            }
        }
        let rows = (cells.keys.map(\.row).max() ?? -1) + 1, columns = (cells.keys.map(\.column).max() ?? -1) + 1
        let lines = (0..<rows).map { r in String((0..<columns).map { cells[TilePosition(row: r, column: $0)] ?? " " }) }
        return .object(["rows": .int(Int64(rows)), "columns": .int(Int64(columns)), "grid": .array(lines.map(JSONValue.string)),
                        "done": .int(Int64(cells.values.filter { $0 == "█" }.count)), "stages": .object(stages)])
    }
}
