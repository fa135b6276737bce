public import Foundation

// Messages the coordinator sends to a worker.

/// `welcome`: the coordinator accepted the hello; the worker may now send `ready`.
public struct Welcome: WireBody {
    public static let kind = MessageKind.welcome
    /// The id the coordinator records this worker under (logs, `stylefarm workers`).
    public var workerID: String
    /// How often each side heartbeats.
    public var heartbeatIntervalMilliseconds: Int
    /// Missed heartbeats after which a peer counts as lost.
    public var liveness: Int

    public init(workerID: String, heartbeatIntervalMilliseconds: Int, liveness: Int) {
        self.workerID = workerID
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.liveness = liveness
    }

    public func validate() throws(ProtocolError) {
        try require(heartbeatIntervalMilliseconds >= 10 && heartbeatIntervalMilliseconds <= 3_600_000, "heartbeat interval must be 10 ms – 1 h; got \(heartbeatIntervalMilliseconds) ms")
        try require(liveness >= 1 && liveness <= 1000, "liveness must be 1–1000; got \(liveness)")
    }
}

/// `refused`: the coordinator will not work with this worker (wrong weights, wrong version…).
public struct Refused: WireBody {
    public static let kind = MessageKind.refused
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// `assign`: render this task. Inputs are blobs by role (`"content"`, `"style.0"`, `"mask.1"`…);
/// the worker fetches any it lacks with `blobRequest`.
public struct TaskAssignment: WireBody {
    public static let kind = MessageKind.assign
    public var taskID: String
    /// Fencing token: a result or failure must carry it back; a stale one is dropped.
    public var attemptID: Int64
    public var jobID: String
    /// The engine's render settings, opaque to Protocol.
    public var settings: JSONValue
    public var inputs: [String: SHA256Digest]

    public init(taskID: String, attemptID: Int64, jobID: String, settings: JSONValue, inputs: [String: SHA256Digest]) {
        self.taskID = taskID
        self.attemptID = attemptID
        self.jobID = jobID
        self.settings = settings
        self.inputs = inputs
    }

    public func validate() throws(ProtocolError) {
        try require(!taskID.isEmpty && !jobID.isEmpty, "an assignment needs a task id and a job id")
    }
}

/// `blob`: the bytes of a requested input as the one binary frame, or `found == false` and no frame.
public struct BlobReply: WireBody {
    public static let kind = MessageKind.blob
    public var sha256: SHA256Digest
    public var found: Bool
    /// The blob's bytes (frame 3) when found, empty otherwise.
    public var bytes: Data

    private enum CodingKeys: String, CodingKey { case sha256, found }

    public init(sha256: SHA256Digest, bytes: Data?) {
        self.sha256 = sha256
        self.found = bytes != nil
        self.bytes = bytes ?? Data()
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sha256 = try container.decode(SHA256Digest.self, forKey: .sha256)
        found = try container.decode(Bool.self, forKey: .found)
        bytes = Data()
    }

    public var payloads: [Data] { found ? [bytes] : [] }

    public mutating func attach(payloads: [Data]) throws(ProtocolError) {
        let expected = found ? 1 : 0
        guard payloads.count == expected else {
            throw ProtocolError(.wrongPayloadCount, "'blob' with found=\(found) carries \(expected) binary frames; got \(payloads.count)", kind: Self.kind.rawValue)
        }
        bytes = payloads.first ?? Data()
    }
}

/// `cancel`: stop this attempt now (the job was cancelled or the task reassigned).
public struct CancelTask: WireBody {
    public static let kind = MessageKind.cancel
    public var taskID: String
    public var attemptID: Int64

    public init(taskID: String, attemptID: Int64) {
        self.taskID = taskID
        self.attemptID = attemptID
    }
}
