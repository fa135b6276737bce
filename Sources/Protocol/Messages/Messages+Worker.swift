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
    /// The work orders this worker runs (``WorkerCapability`` raw values: "render", "tile"…);
    /// the coordinator gives it no other kind of task.
    public var capabilities: [String]
    /// The SHA-256 of the worker's weights file (what it renders with), or nil when it has none
    /// yet: it then fetches the coordinator's, offered in `welcome`. A worker whose weights
    /// differ from the coordinator's is refused.
    public var weightsSHA256: SHA256Digest?
    /// `StyleFarmBuild.engineVersion`: a coordinator refuses workers of another engine.
    public var engineVersion: String
    public var zmqVersion: String
    public var protocolVersion: UInt16
    /// Memory the worker may render in (physical memory, or its cgroup's limit), in bytes; the
    /// coordinator sends it no task whose estimated peak is larger.
    public var memoryBytes: Int64?
    /// The machine it runs on (several workers may share one).
    public var host: String?

    public init(workerName: String, threads: Int, capabilities: [String], weightsSHA256: SHA256Digest?,
                engineVersion: String, zmqVersion: String = ZeroMQVersion.runtime,
                protocolVersion: UInt16 = WireMessage.protocolVersion, memoryBytes: Int64? = nil, host: String? = nil) {
        self.workerName = workerName
        self.threads = threads
        self.capabilities = capabilities
        self.weightsSHA256 = weightsSHA256
        self.engineVersion = engineVersion
        self.zmqVersion = zmqVersion
        self.protocolVersion = protocolVersion
        self.memoryBytes = memoryBytes
        self.host = host
    }

    public func validate() throws(ProtocolError) {
        try require(!workerName.isEmpty && workerName.utf8.count <= 256, "worker name must be 1–256 bytes")
        try require(threads >= 1 && threads <= 4096, "threads must be 1–4096; got \(threads)")
        try require(protocolVersion == WireMessage.protocolVersion, "hello announces protocol version \(protocolVersion); this build speaks \(WireMessage.protocolVersion)")
        try require(capabilities.count <= 64 && capabilities.allSatisfy { $0.utf8.count <= 64 }, "at most 64 capabilities of 64 bytes each")
        try require(engineVersion.utf8.count <= 64, "engine version must be at most 64 bytes")
        try require((memoryBytes ?? 1) > 0, "memoryBytes must be positive")
        try require((host?.utf8.count ?? 0) <= 256, "host must be at most 256 bytes")
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

/// `progress`: loss-log lines of a running attempt, streamed as the render goes, and now and
/// then a small picture of its image as an optional binary frame (frame 3). A worker sends one
/// only to a coordinator whose `welcome` offered to take them (``PreviewOffer``), so a
/// progress to an older coordinator is exactly what it was before.
public struct TaskProgress: WireBody {
    public static let kind = MessageKind.progress
    public var taskID: String
    public var attemptID: Int64
    /// At least one line, oldest first.
    public var lines: [LossLine]
    /// The image as of the last line, checked from its header (frame 3, not in the JSON).
    public var preview: PreviewImage?
    /// The attempt's planned iterations (all stages), sent with a preview so that a viewer can
    /// say how far along it is; absent otherwise, as from older workers.
    public var iterations: Int?

    private enum CodingKeys: String, CodingKey { case taskID, attemptID, lines, iterations }

    public init(taskID: String, attemptID: Int64, lines: [LossLine], preview: PreviewImage? = nil, iterations: Int? = nil) {
        self.taskID = taskID
        self.attemptID = attemptID
        self.lines = lines
        self.preview = preview
        self.iterations = iterations
    }

    public var payloads: [Data] { preview.map { [$0.bytes] } ?? [] }

    public mutating func attach(payloads: [Data]) throws(ProtocolError) {
        guard payloads.count <= 1 else {
            throw ProtocolError(.wrongPayloadCount, "'progress' carries at most one binary frame (a preview); got \(payloads.count)", kind: Self.kind.rawValue)
        }
        preview = try payloads.first.map { (bytes) throws(ProtocolError) in try PreviewImage(validating: bytes) }
    }

    public func validate() throws(ProtocolError) {
        try require(!taskID.isEmpty, "progress needs a task id")
        try require(!lines.isEmpty, "progress needs at least one loss-log line")
        try require((0...100_000_000).contains(iterations ?? 0), "iterations must be 0–100000000; got \(iterations ?? 0)")
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

/// `blobRequest`: send me the input with this digest, whole, or `length` bytes from `offset`
/// (the weights, ~80 MB, come in chunks so that a worker cut off mid-way resumes where it was).
public struct BlobRequest: WireBody {
    public static let kind = MessageKind.blobRequest
    public var sha256: SHA256Digest
    public var offset: Int64?
    public var length: Int?

    /// The largest chunk a worker may ask for.
    public static let maximumChunk = 64 << 20

    public init(sha256: SHA256Digest, offset: Int64? = nil, length: Int? = nil) {
        self.sha256 = sha256
        self.offset = offset
        self.length = length
    }

    public func validate() throws(ProtocolError) {
        try require((offset ?? 0) >= 0, "a blob offset must not be negative")
        try require((1...Self.maximumChunk).contains(length ?? 1), "a blob chunk is 1 byte to \(Self.maximumChunk >> 20) MiB")
        try require((offset == nil) == (length == nil), "a chunk needs both offset and length")
    }
}

/// `goodbye`: the worker is leaving on purpose (SIGTERM, operator); its tasks can be requeued at once.
public struct Goodbye: WireBody {
    public static let kind = MessageKind.goodbye
    public var reason: String

    public init(reason: String) { self.reason = reason }
}
