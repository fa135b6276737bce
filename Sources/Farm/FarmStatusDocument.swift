/// What `stylefarm status`, `watch`, `wait`, `workers` (and later the web page) read: one typed
/// document, encoded as JSON in the `statusReply` message. A farm-wide query lists at most
/// `limit` jobs (the unfinished ones first, then the newest) and counts the rest, so that a farm
/// with 100,000 jobs still answers within the wire's header limit.
public struct FarmStatusDocument: Sendable, Codable, Equatable {
    public var jobs: [JobStatus]
    /// Every job of the farm by state, listed or not (nil from coordinators that predate it).
    public var jobCounts: [String: Int]?
    /// Jobs that exist but are not in `jobs`.
    public var jobsOmitted: Int?
    public var workers: [WorkerStatus]
    /// Connected workers not listed in `workers`.
    public var workersOmitted: Int?
    /// The coordinator's HTTP address (`--http`), for `watch` to show; nil without one.
    public var http: String?

    public init(jobs: [JobStatus], jobCounts: [String: Int]? = nil, jobsOmitted: Int? = nil, workers: [WorkerStatus],
                workersOmitted: Int? = nil) {
        self.jobs = jobs
        self.jobCounts = jobCounts
        self.jobsOmitted = jobsOmitted
        self.workers = workers
        self.workersOmitted = workersOmitted
    }
}

public struct JobStatus: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    public var state: JobState
    public var priority: Int
    public var reason: String?
    /// Tasks by state (`TaskState` raw values).
    public var tasks: [String: Int]
    public var running: [RunningTaskStatus]
    /// Where the job's outputs are, on the coordinator's host.
    public var directory: String
    /// A tiled job's grid.
    public var tiles: TileGridStatus?
    /// Why its ready tasks wait, when the coordinator can tell (no connected worker has the
    /// memory for the largest of them, or every connected worker is blocked for it or drained).
    public var waiting: String?
    /// The workers (by name) blocked for this job: they get none of its tasks.
    public var blockedWorkers: [String]?
    /// Why each of `blockedWorkers` is blocked ("blocked by http", "failed 2 of the job's tasks…").
    public var blockReasons: [String: String]?
    /// An exact job's latest complete checkpoint (what a restarted gang resumes from).
    public var checkpoint: CheckpointStatus?

    public init(id: String, kind: String, state: JobState, priority: Int, reason: String?, tasks: [String: Int],
                running: [RunningTaskStatus], directory: String, tiles: TileGridStatus? = nil) {
        self.id = id
        self.kind = kind
        self.state = state
        self.priority = priority
        self.reason = reason
        self.tasks = tasks
        self.running = running
        self.directory = directory
        self.tiles = tiles
    }

    public func count(_ state: TaskState) -> Int { tasks[state.rawValue] ?? 0 }
    public var taskTotal: Int { tasks.values.reduce(0) { $0 &+ $1 } }
}

/// An exact job's latest complete checkpoint: the iteration every shard saved, and the bytes
/// of all shards' states together.
public struct CheckpointStatus: Sendable, Codable, Equatable {
    public var iteration: Int
    public var bytes: Int64

    public init(iteration: Int, bytes: Int64) {
        self.iteration = iteration
        self.bytes = bytes
    }
}

/// A task rendering now, with its latest loss-log line's iteration.
public struct RunningTaskStatus: Sendable, Codable, Equatable {
    public var key: String
    public var worker: String
    public var iteration: Int
    public var iterations: Int
    public var elapsed: Double

    public init(key: String, worker: String, iteration: Int, iterations: Int, elapsed: Double) {
        self.key = key
        self.worker = worker
        self.iteration = iteration
        self.iterations = iterations
        self.elapsed = elapsed
    }
}

/// A tiled job's tiles by state: one string per tile row, one state code per tile (`code(for:)`,
/// compact so that 10 000 tiles fit a status reply), and the states of its other tasks by key.
/// Clients draw it as they like (`watch` uses '·' waiting, '▒' rendering, '█' done, '✗' failed).
public struct TileGridStatus: Sendable, Codable, Equatable {
    public var rows: Int
    public var columns: Int
    /// Row by row, `code(for:)` of each tile's state; ' ' where the grid has no tile.
    public var states: [String]
    public var done: Int
    public var stages: [String: String]

    public init(rows: Int, columns: Int, states: [String], done: Int, stages: [String: String]) {
        self.rows = rows
        self.columns = columns
        self.states = states
        self.done = done
        self.stages = stages
    }

    static let codes: [TaskState: Character] = [.ready: "r", .leased: "l", .done: "d", .failed: "f", .cancelled: "c"]

    public static func code(for state: TaskState) -> Character { codes[state] ?? "?" }

    /// The state a code stands for; nil for ' ' or anything unknown.
    public static func state(for code: Character) -> TaskState? { codes.first { $0.value == code }?.key }
}

/// A connected worker: what it announced, what it is rendering, and how fast.
public struct WorkerStatus: Sendable, Codable, Equatable {
    public var id: String
    public var threads: Int
    public var name: String?
    public var host: String?
    public var memoryBytes: Int64?
    public var capabilities: [String]?
    /// Seconds since its last message.
    public var lastSeenSeconds: Double?
    /// Its running task ("<job>/<key>"), latest iteration and iterations per second so far.
    public var task: String?
    public var iteration: Int?
    public var iterationsPerSecond: Double?
    /// Drained: it finishes what it runs and gets no new tasks (nil from older coordinators).
    public var draining: Bool?
    /// Attempts that failed on it through the task (not lost), over the records it keeps.
    public var failures: Int?
    /// The queued or running jobs it is blocked for.
    public var blockedJobs: [String]?

    public init(id: String, threads: Int, name: String? = nil, host: String? = nil, memoryBytes: Int64? = nil,
                capabilities: [String]? = nil, lastSeenSeconds: Double? = nil, task: String? = nil, iteration: Int? = nil,
                iterationsPerSecond: Double? = nil) {
        self.id = id
        self.threads = threads
        self.name = name
        self.host = host
        self.memoryBytes = memoryBytes
        self.capabilities = capabilities
        self.lastSeenSeconds = lastSeenSeconds
        self.task = task
        self.iteration = iteration
        self.iterationsPerSecond = iterationsPerSecond
    }
}
