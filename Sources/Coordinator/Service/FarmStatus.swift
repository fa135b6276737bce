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
        let drained = try records.drainedWorkers()
        let failures = try records.failuresByWorkerName()
        let jobs = try listed.map { job in
            var status = JobStatus(id: job.id, kind: job.kind, state: job.state, priority: job.priority, reason: job.reason,
                      tasks: try records.taskCounts(ofJob: job.id),
                      running: try records.runningTasks(ofJob: job.id).map {
                          RunningTaskStatus(key: $0.key, worker: $0.worker, iteration: $0.iteration, iterations: $0.iterations, elapsed: $0.elapsed)
                      },
                      directory: dataDirectory + "/jobs/" + job.id,
                      tiles: job.kind == "tiled" ? tileGrid(try records.tasks(ofJob: job.id)) : nil)
            let blocks = try records.blocks(ofJob: job.id)
            if !blocks.isEmpty {
                status.blockedWorkers = blocks.map(\.worker)
                status.blockReasons = Dictionary(blocks.map { ($0.worker, $0.reason) }, uniquingKeysWith: { first, _ in first })
            }
            if status.state.isActive {
                status.waiting = try waiting(job: job.id, records: records, workers: workers)
                    ?? gangWaiting(job: job.id, records: records, blocked: Set(blocks.map(\.worker)), drained: drained, workers: workers)
                    ?? unservable(status, blocked: Set(blocks.map(\.worker)), drained: drained, workers: workers)
            }
            if job.kind == "tiled", let checkpoint = try records.latestCheckpoint(ofJob: job.id) {
                status.checkpoint = CheckpointStatus(iteration: checkpoint.iteration, bytes: checkpoint.bytes)
            }
            return status
        }
        let sortedWorkers = workers.sorted { $0.id < $1.id }
        let running = try records.runningAttemptsByWorker()
        var blockedJobs: [String: [String]] = [:]
        for block in try records.activeBlocks() { blockedJobs[block.worker, default: []].append(block.jobID) }
        let listedWorkers = sortedWorkers.prefix(maximumWorkers).map { worker -> WorkerStatus in
            var worker = worker
            let name = worker.name ?? worker.id
            worker.draining = drained.contains(name)
            worker.failures = failures[name] ?? 0
            worker.blockedJobs = blockedJobs[name] ?? []
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

    /// Says why an exact job's shards wait when fewer workers that can run them (the
    /// capability, the memory, not drained, not blocked for the job) are connected than the
    /// gang has shards; nil otherwise (they then wait only for such workers to be free).
    static func gangWaiting(job: String, records: FarmRecords, blocked: Set<String>, drained: Set<String>,
                            workers: [WorkerStatus]) throws -> String? {
        let ready = try records.readyShards(ofJob: job)
        guard ready.count > 0, let stored = try records.firstReadyShardRequest(ofJob: job),
              case .shard(let order)? = try? WorkOrder.decode(stored) else { return nil }
        let needed = TaskFootprint.bytes(forPixels: ready.pixels)
        let capable = workers.filter { worker in
            let name = worker.name ?? worker.id
            guard !blocked.contains(name), !drained.contains(name),
                  (worker.capabilities ?? []).contains(WorkerCapability.exactShard2.rawValue) else { return false }
            guard let memory = worker.memoryBytes, ready.pixels > 0 else { return true }
            return needed.map { Int64($0) <= memory } ?? false
        }.count
        guard capable < order.shardCount else { return nil }
        return "needs \(order.shardCount) workers that can run its shards, \(capable) connected"
    }

    /// Says why a job's ready tasks wait when every connected worker is blocked for the job or
    /// drained (blocking never fails a job: it waits, and the status says so); nil otherwise.
    static func unservable(_ job: JobStatus, blocked: Set<String>, drained: Set<String>, workers: [WorkerStatus]) -> String? {
        guard job.count(.ready) > 0, !workers.isEmpty else { return nil }
        let names = Set(workers.map { $0.name ?? $0.id })
        guard names.isSubset(of: blocked.union(drained)) else { return nil }
        let blockedHere = names.intersection(blocked).sorted(), drainedHere = names.subtracting(blocked).sorted()
        var parts: [String] = []
        if !blockedHere.isEmpty {
            parts.append("blocked for it: \(blockedHere.prefix(10).joined(separator: ", ")) (`stylefarm block \(job.id) WORKER --undo` lifts a block)")
        }
        if !drainedHere.isEmpty {
            parts.append("draining: \(drainedHere.prefix(10).joined(separator: ", ")) (`stylefarm drain WORKER --undo`)")
        }
        return "every connected worker is " + parts.joined(separator: "; or ")
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
