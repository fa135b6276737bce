public import Protocol
public import Farm
import Engine

/// Builds the status document `stylefarm status`, `watch`, `wait` and `workers` read.
public enum FarmStatus {
    /// Workers listed at most; the rest are counted.
    static let maximumWorkers = 500

    /// `workers`: the connected sessions as the coordinator knows them; their running tasks
    /// and speed come from the records.
    public static func document(records: FarmRecords, query: StatusQuery, workers: [WorkerStatus],
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
            var status = JobStatus(id: job.id, kind: job.kind, state: job.state, priority: job.priority, reason: job.reason,
                      tasks: try records.taskCounts(ofJob: job.id),
                      running: try records.runningTasks(ofJob: job.id).map {
                          RunningTaskStatus(key: $0.key, worker: $0.worker, iteration: $0.iteration, iterations: $0.iterations, elapsed: $0.elapsed)
                      },
                      directory: dataDirectory + "/jobs/" + job.id,
                      tiles: job.kind == "tiled" ? tileGrid(try records.tasks(ofJob: job.id)) : nil)
            if status.state.isActive { status.waiting = try waiting(job: job.id, records: records, workers: workers) }
            return status
        }
        let sortedWorkers = workers.sorted { $0.id < $1.id }
        let running = try records.runningAttemptsByWorker()
        let listedWorkers = sortedWorkers.prefix(maximumWorkers).map { worker -> WorkerStatus in
            var worker = worker
            if let attempt = running[worker.id] {
                worker.task = attempt.jobID + "/" + attempt.key
                worker.iteration = attempt.iteration
                worker.iterationsPerSecond = attempt.elapsed > 0 ? Double(attempt.iteration) / attempt.elapsed : nil
            }
            return worker
        }
        return FarmStatusDocument(jobs: jobs, jobCounts: counts, jobsOmitted: omitted,
                                  workers: listedWorkers,
                                  workersOmitted: sortedWorkers.count > maximumWorkers ? sortedWorkers.count - maximumWorkers : nil)
    }

    /// Says why a job's ready tasks wait when the largest of them fits no connected worker's
    /// announced memory (a task is only sent to a worker that can hold it); nil otherwise.
    static func waiting(job: String, records: FarmRecords, workers: [WorkerStatus]) throws -> String? {
        let memories = workers.map(\.memoryBytes)
        guard !memories.isEmpty, !memories.contains(nil), let largest = memories.compactMap({ $0 }).max(),
              let pixels = try records.largestReadyTask(ofJob: job), pixels > 0 else { return nil }
        guard let needed = TaskFootprint.bytes(forPixels: pixels), Int64(needed) <= largest else {
            let amount = TaskFootprint.bytes(forPixels: pixels).map { "about \($0 >> 20) MB" } ?? "more memory than any machine has"
            return "its largest ready task needs \(amount); the largest connected worker has \(largest >> 20) MB"
        }
        return nil
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
