public import Foundation

// Messages a worker sends to the coordinator, in the order of a worker's life:
// hello → (welcome) → ready → progress… → result | failure → ready … → goodbye.
// blobRequest whenever an assignment names an input the worker has not cached.

/// `hello`: the first message of a worker, announcing what it is and what it can do.
public struct Hello: WireBody {
    public static let kind = MessageKind.hello
    /// Human-readable, unique in the farm by convention (defaults to the host name).
    public var workerName: String
    /// Engine threads the worker renders with.
    public var threads: Int
    /// Free-form feature flags (`"adam"`, `"exactTiles"`…) the coordinator may match tasks against.
    public var capabilities: [String]
    /// The hash of the engine weights file: workers with different weights render different images.
    public var weightsSHA256: SHA256Digest
    public var engineVersion: String
    public var zmqVersion: String
    public var protocolVersion: UInt16

    public init(workerName: String, threads: Int, capabilities: [String], weightsSHA256: SHA256Digest,
                engineVersion: String, zmqVersion: String = ZeroMQVersion.runtime,
                protocolVersion: UInt16 = WireMessage.protocolVersion) {
        self.workerName = workerName
        self.threads = threads
        self.capabilities = capabilities
        self.weightsSHA256 = weightsSHA256
        self.engineVersion = engineVersion
        self.zmqVersion = zmqVersion
        self.protocolVersion = protocolVersion
    }

    public func validate() throws(ProtocolError) {
        try require(!workerName.isEmpty && workerName.utf8.count <= 256, "worker name must be 1–256 bytes")
        try require(threads >= 1 && threads <= 4096, "threads must be 1–4096; got \(threads)")
        try require(protocolVersion == WireMessage.protocolVersion, "hello announces protocol version \(protocolVersion); this build speaks \(WireMessage.protocolVersion)")
    }
}

/// `ready`: the worker has `credit` free slots (credit-based flow control). It also says which
/// attempts it holds and the last assignment it has seen, so that the coordinator can count the
/// assignments still on their way to it: a repeated `ready` never gets a task twice.
public struct Ready: WireBody {
    public static let kind = MessageKind.ready
    public var credit: Int
    /// The attempts this worker is working on (nil from workers that predate it).
    public var holding: [Int64]?
    /// The highest attempt id assigned to this worker that it has received.
    public var lastAssignment: Int64?

    public init(credit: Int, holding: [Int64]? = nil, lastAssignment: Int64? = nil) {
        self.credit = credit
        self.holding = holding
        self.lastAssignment = lastAssignment
    }

    public func validate() throws(ProtocolError) {
        try require(credit >= 0 && credit <= 4096, "credit must be 0–4096; got \(credit)")
        try require((holding?.count ?? 0) <= 4096, "a worker holds at most 4096 attempts")
    }
}

/// `progress`: loss-log lines of a running attempt, streamed as the render goes.
public struct TaskProgress: WireBody {
    public static let kind = MessageKind.progress
    public var taskID: String
    public var attemptID: Int64
    /// At least one line, oldest first.
    public var lines: [LossLine]

    public init(taskID: String, attemptID: Int64, lines: [LossLine]) {
        self.taskID = taskID
        self.attemptID = attemptID
        self.lines = lines
    }

    public func validate() throws(ProtocolError) {
        try require(!taskID.isEmpty, "progress needs a task id")
        try require(!lines.isEmpty, "progress needs at least one loss-log line")
    }
}

/// `result`: an attempt finished; the image PNG travels as the one binary frame.
public struct TaskResult: WireBody {
    public static let kind = MessageKind.result
    public var taskID: String
    public var attemptID: Int64
    public var finalLosses: LossLine
    /// The engine's render summary (timings, peak memory…), opaque to Protocol.
    public var summary: JSONValue
    /// The rendered image, PNG bytes (frame 3).
    public var image: Data

    private enum CodingKeys: String, CodingKey { case taskID, attemptID, finalLosses, summary }

    public init(taskID: String, attemptID: Int64, finalLosses: LossLine, summary: JSONValue, image: Data) {
        self.taskID = taskID
        self.attemptID = attemptID
        self.finalLosses = finalLosses
        self.summary = summary
        self.image = image
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        taskID = try container.decode(String.self, forKey: .taskID)
        attemptID = try container.decode(Int64.self, forKey: .attemptID)
        finalLosses = try container.decode(LossLine.self, forKey: .finalLosses)
        summary = try container.decode(JSONValue.self, forKey: .summary)
        image = Data()
    }

    public var payloads: [Data] { [image] }

    public mutating func attach(payloads: [Data]) throws(ProtocolError) {
        guard payloads.count == 1 else {
            throw ProtocolError(.wrongPayloadCount, "'result' carries exactly one binary frame (the PNG); got \(payloads.count)", kind: Self.kind.rawValue)
        }
        image = payloads[0]
    }

    public func validate() throws(ProtocolError) {
        try require(!taskID.isEmpty, "result needs a task id")
    }
}

/// `failure`: an attempt failed. `retryable` is false when retrying elsewhere cannot help
/// (a bad input image), true for local trouble (out of memory, cancelled by SIGTERM).
public struct TaskFailure: WireBody {
    public static let kind = MessageKind.failure
    public var taskID: String
    public var attemptID: Int64
    public var reason: String
    public var retryable: Bool
    /// The worker gives the task back without having failed it (it is shutting down, busy, or
    /// was cancelled): charged to the task's loss budget, not its failure budget.
    public var handBack: Bool?

    public init(taskID: String, attemptID: Int64, reason: String, retryable: Bool, handBack: Bool? = nil) {
        self.taskID = taskID
        self.attemptID = attemptID
        self.reason = reason
        self.retryable = retryable
        self.handBack = handBack
    }

    public func validate() throws(ProtocolError) {
        try require(!taskID.isEmpty, "failure needs a task id")
    }
}

/// `blobRequest`: send me the input with this digest.
public struct BlobRequest: WireBody {
    public static let kind = MessageKind.blobRequest
    public var sha256: SHA256Digest

    public init(sha256: SHA256Digest) { self.sha256 = sha256 }
}

/// `goodbye`: the worker is leaving on purpose (SIGTERM, operator); its tasks can be requeued at once.
public struct Goodbye: WireBody {
    public static let kind = MessageKind.goodbye
    public var reason: String

    public init(reason: String) { self.reason = reason }
}
