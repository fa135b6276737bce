// Operator actions from a CLI client (cancel stays `cancelJob`/`cancelled`): each request is
// answered with `actionDone` or an `error`. Only client keys may send them (the coordinator
// checks the key's role as for `cancelJob`).

/// `setPriority`: change a queued or running job's priority (higher runs first).
public struct SetJobPriority: WireBody {
    public static let kind = MessageKind.setPriority
    public var jobID: String
    public var priority: Int

    public init(jobID: String, priority: Int) {
        self.jobID = jobID
        self.priority = priority
    }

    public func validate() throws(ProtocolError) {
        try require(ActionLimits.isJobID(jobID), "a job id is 1–\(ActionLimits.maximumJobIDBytes) bytes")
        try require(ActionLimits.priorities.contains(priority), "priority must be within ±\(ActionLimits.priorities.upperBound)")
    }
}

/// `blockWorker`: the worker (a name or a session id) gets no more of the job's tasks; with
/// `blocked` false, the block is lifted.
public struct BlockWorker: WireBody {
    public static let kind = MessageKind.blockWorker
    public var jobID: String
    public var worker: String
    public var blocked: Bool

    public init(jobID: String, worker: String, blocked: Bool) {
        self.jobID = jobID
        self.worker = worker
        self.blocked = blocked
    }

    public func validate() throws(ProtocolError) {
        try require(ActionLimits.isJobID(jobID), "a job id is 1–\(ActionLimits.maximumJobIDBytes) bytes")
        try require(ActionLimits.isWorker(worker), "a worker is 1–\(ActionLimits.maximumWorkerBytes) bytes")
    }
}

/// `drainWorker`: the worker finishes what it runs and gets nothing new (or, `drain` false,
/// gets work again).
public struct DrainWorker: WireBody {
    public static let kind = MessageKind.drainWorker
    public var worker: String
    public var drain: Bool

    public init(worker: String, drain: Bool) {
        self.worker = worker
        self.drain = drain
    }

    public func validate() throws(ProtocolError) {
        try require(ActionLimits.isWorker(worker), "a worker is 1–\(ActionLimits.maximumWorkerBytes) bytes")
    }
}

/// `actionDone`: what an action did (`changed` false: it was already so).
public struct ActionDone: WireBody {
    public static let kind = MessageKind.actionDone
    public var action: String
    public var jobID: String?
    public var worker: String?
    public var priority: Int?
    public var changed: Bool
    public var message: String

    public init(action: String, jobID: String? = nil, worker: String? = nil, priority: Int? = nil, changed: Bool, message: String) {
        self.action = action
        self.jobID = jobID
        self.worker = worker
        self.priority = priority
        self.changed = changed
        self.message = message
    }

    public func validate() throws(ProtocolError) {
        try require(!action.isEmpty && action.utf8.count <= 32, "an action name is 1–32 bytes")
        try require(message.utf8.count <= 4096, "an action's message is at most 4096 bytes")
    }
}

/// The bounds every action's fields are checked against.
enum ActionLimits {
    static let maximumJobIDBytes = 64
    /// Worker names are up to 256 bytes; a session id adds a dash and 8 hex digits.
    static let maximumWorkerBytes = 300
    static let priorities = -1_000_000...1_000_000

    static func isJobID(_ id: String) -> Bool { !id.isEmpty && id.utf8.count <= maximumJobIDBytes }
    static func isWorker(_ worker: String) -> Bool { !worker.isEmpty && worker.utf8.count <= maximumWorkerBytes }
}
