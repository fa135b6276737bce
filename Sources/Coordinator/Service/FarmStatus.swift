public import Protocol
public import Farm
import Engine

/// Builds the status document `stylefarm status`, `watch`, `wait` and `workers` read.
public enum FarmStatus {
    /// Workers listed at most; the rest are counted.
    static let maximumWorkers = 500

    public static func document(records: FarmRecords, query: StatusQuery, workers: [(id: String, threads: Int)],
                                dataDirectory: String) throws -> FarmStatusDocument {
        let listed: [FarmRecords.JobState]
        var counts: [String: Int]? = nil
        var omitted: Int? = nil
        if let id = query.jobID {
            listed = try records.job(id).map { [$0] } ?? []
        } else {
            listed = try records.jobsForStatus(limit: query.limit ?? StatusQuery.defaultLimit)
            let all = try records.jobCounts()
            counts = all
            omitted = max(0, all.values.reduce(0, +) - listed.count)
        }
        let jobs = try listed.map { job in
            JobStatus(id: job.id, kind: job.kind, state: job.state, priority: job.priority, reason: job.reason,
                      tasks: try records.taskCounts(ofJob: job.id),
                      running: try records.runningTasks(ofJob: job.id).map {
                          RunningTaskStatus(key: $0.key, worker: $0.worker, iteration: $0.iteration, iterations: $0.iterations, elapsed: $0.elapsed)
                      },
                      directory: dataDirectory + "/jobs/" + job.id,
                      tiles: job.kind == "tiled" ? tileGrid(try records.tasks(ofJob: job.id)) : nil)
        }
        let sortedWorkers = workers.sorted { $0.id < $1.id }
        return FarmStatusDocument(jobs: jobs, jobCounts: counts, jobsOmitted: omitted,
                                  workers: sortedWorkers.prefix(maximumWorkers).map { WorkerStatus(id: $0.id, threads: $0.threads) },
                                  workersOmitted: sortedWorkers.count > maximumWorkers ? sortedWorkers.count - maximumWorkers : nil)
    }

    /// The grid of a tiled job's tiles by state, from their `tile-rN-cM` keys.
    static func tileGrid(_ tasks: [FarmRecords.TaskState]) -> TileGridStatus {
        var cells: [TilePosition: Farm.TaskState] = [:]
        var stages: [String: String] = [:]
        for task in tasks {
            guard let position = try? TilePosition(key: task.key) else {
                stages[task.key] = task.state
                continue
            }
            cells[position] = Farm.TaskState(rawValue: task.state) ?? .ready
        }
        let rows = (cells.keys.map(\.row).max() ?? -1) + 1, columns = (cells.keys.map(\.column).max() ?? -1) + 1
        let lines = (0..<rows).map { r in
            String((0..<columns).map { c in cells[TilePosition(row: r, column: c)].map(TileGridStatus.code(for:)) ?? " " })
        }
        return TileGridStatus(rows: rows, columns: columns, states: lines, done: cells.values.filter { $0 == .done }.count, stages: stages)
    }
}
