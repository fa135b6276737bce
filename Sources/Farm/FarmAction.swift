/// What an operator may do to a running farm, from the CLI (ZeroMQ client messages) or the
/// HTTP API: one type, so that each action has one implementation in the coordinator.
///
/// A worker is named as the records know it: its `--name` (every session of that name is
/// meant, now and after restarts) or one session's id (`w0-1a2b3c4d`, resolved to its name).
public enum FarmAction: Sendable, Equatable {
    /// Cancel a queued or running job and stop its running tasks on their workers.
    case cancel(job: String)
    /// Change a job's priority (higher runs first); takes effect for the next leases.
    case setPriority(job: String, priority: Int)
    /// The worker gets no more tasks of the job (its running one may finish).
    case block(job: String, worker: String)
    case unblock(job: String, worker: String)
    /// The worker finishes what it runs and gets no new tasks, until undrained (kept across
    /// coordinator restarts).
    case drain(worker: String)
    case undrain(worker: String)

    /// Priorities a job may have (as at submission).
    public static let priorityRange = -1_000_000...1_000_000
    /// A job id is 1–64 bytes; a worker's name or session id 1–300 (names are up to 256).
    public static let maximumJobIDBytes = 64
    public static let maximumWorkerBytes = 300

    /// The action's name, as outcomes and logs show it.
    public var name: String {
        switch self {
        case .cancel: "cancel"
        case .setPriority: "priority"
        case .block: "block"
        case .unblock: "unblock"
        case .drain: "drain"
        case .undrain: "undrain"
        }
    }

    public var jobID: String? {
        switch self {
        case .cancel(let job), .setPriority(let job, _), .block(let job, _), .unblock(let job, _): job
        case .drain, .undrain: nil
        }
    }

    public var worker: String? {
        switch self {
        case .block(_, let worker), .unblock(_, let worker), .drain(let worker), .undrain(let worker): worker
        case .cancel, .setPriority: nil
        }
    }

    /// Why the action is malformed (an empty or oversized id, a priority out of range), or nil.
    public var problem: String? {
        if let job = jobID, job.isEmpty || job.utf8.count > Self.maximumJobIDBytes {
            return "a job id is 1–\(Self.maximumJobIDBytes) bytes"
        }
        if let worker, worker.isEmpty || worker.utf8.count > Self.maximumWorkerBytes {
            return "a worker is named by 1–\(Self.maximumWorkerBytes) bytes (its name or session id)"
        }
        if case .setPriority(_, let priority) = self, !Self.priorityRange.contains(priority) {
            return "priority \(priority) is out of range ±\(Self.priorityRange.upperBound)"
        }
        return nil
    }
}

/// What an action did: the JSON an HTTP action answers with, and what `actionDone` carries.
public struct FarmActionOutcome: Sendable, Codable, Equatable {
    /// `FarmAction.name`: cancel, priority, block, unblock, drain, undrain.
    public var action: String
    public var job: String?
    /// The worker's name the action applied to (a session id given is resolved to it).
    public var worker: String?
    /// The job's priority now (`priority`).
    public var priority: Int?
    /// False when nothing had to change (already blocked, not drained…).
    public var changed: Bool
    /// One sentence for people.
    public var message: String

    public init(action: String, job: String? = nil, worker: String? = nil, priority: Int? = nil, changed: Bool, message: String) {
        self.action = action
        self.job = job
        self.worker = worker
        self.priority = priority
        self.changed = changed
        self.message = message
    }
}

/// Why an action was refused. `code` decides the HTTP status and the wire error code.
public struct FarmActionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// Malformed (HTTP 400).
        case invalid
        /// No such job or worker (404).
        case unknownJob, unknownWorker
        /// The job is finished: nothing to cancel, block or reprioritise (409).
        case conflict
        /// The coordinator's queue of actions is full, or it is stopping (503).
        case busy, stopped
        /// The records could not be written (500).
        case failed
    }

    public var code: Code
    public var message: String
    /// The underlying error's description, when there is one.
    public var cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { cause.map { "\(message) (\($0))" } ?? message }
}
