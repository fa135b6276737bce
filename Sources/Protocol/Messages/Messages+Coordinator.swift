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
    /// The coordinator's weights, for a worker that said hello without any: it fetches them
    /// with chunked `blobRequest`s before its first `ready`.
    public var weights: WeightsOffer?
    /// Set only for a worker whose `hello` announced ``PreviewOffer/capability``: it may then
    /// attach previews to its progress, as this says. Absent, a worker sends none (and a worker
    /// that predates previews never sees the key its strict decoder would refuse).
    public var previews: PreviewOffer?
    /// True only for a worker whose `hello` announced ``ShardExchange/checkpointOnStopCapability``:
    /// this coordinator understands `ShardExchange.checkpointRequested`, so a worker stopping
    /// during a shard may ask its gang for a checkpoint first. Absent, it stops at once.
    public var checkpointsOnStop: Bool?

    public init(workerID: String, heartbeatIntervalMilliseconds: Int, liveness: Int, weights: WeightsOffer? = nil,
                previews: PreviewOffer? = nil, checkpointsOnStop: Bool? = nil) {
        self.workerID = workerID
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.liveness = liveness
        self.weights = weights
        self.previews = previews
        self.checkpointsOnStop = checkpointsOnStop
    }

    public func validate() throws(ProtocolError) {
        try require(heartbeatIntervalMilliseconds >= 10 && heartbeatIntervalMilliseconds <= 3_600_000, "heartbeat interval must be 10 ms – 1 h; got \(heartbeatIntervalMilliseconds) ms")
        try require(liveness >= 1 && liveness <= 1000, "liveness must be 1–1000; got \(liveness)")
        if let weights { try require(weights.bytes > 0 && weights.bytes <= 1 << 34, "offered weights must be 1 byte to 16 GiB; got \(weights.bytes)") }
        if let previews {
            try require((16...PreviewImage.maximumSide).contains(previews.maxSide), "a preview's side must be 16–\(PreviewImage.maximumSide) pixels; got \(previews.maxSide)")
            try require((100...3_600_000).contains(previews.intervalMilliseconds), "the preview interval must be 100 ms – 1 h; got \(previews.intervalMilliseconds) ms")
        }
    }
}

/// What a coordinator asks of a worker's previews: how large, and how often (at most one per
/// interval, plus the first and last iteration of an attempt).
public struct PreviewOffer: Sendable, Codable, Hashable {
    /// What a worker adds to `hello`'s capabilities when it can send previews; not a kind of
    /// work order (the coordinator's scheduler ignores it).
    public static let capability = "progress-preview"

    public var maxSide: Int
    public var intervalMilliseconds: Int

    public init(maxSide: Int = 256, intervalMilliseconds: Int = 2000) {
        self.maxSide = maxSide
        self.intervalMilliseconds = intervalMilliseconds
    }
}

/// The weights file a coordinator gives its workers: a content-addressed blob.
public struct WeightsOffer: Sendable, Codable, Hashable {
    public var sha256: SHA256Digest
    public var bytes: Int64

    public init(sha256: SHA256Digest, bytes: Int64) {
        self.sha256 = sha256
        self.bytes = bytes
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
/// A chunk (the answer to a request with an offset) says where it starts and the blob's size.
public struct BlobReply: WireBody {
    public static let kind = MessageKind.blob
    public var sha256: SHA256Digest
    public var found: Bool
    /// The blob's bytes (frame 3) when found, empty otherwise.
    public var bytes: Data
    /// For a chunk: where `bytes` starts in the blob, and the blob's whole size.
    public var offset: Int64?
    public var totalBytes: Int64?

    private enum CodingKeys: String, CodingKey { case sha256, found, offset, totalBytes }

    public init(sha256: SHA256Digest, bytes: Data?, offset: Int64? = nil, totalBytes: Int64? = nil) {
        self.sha256 = sha256
        self.found = bytes != nil
        self.bytes = bytes ?? Data()
        self.offset = offset
        self.totalBytes = totalBytes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sha256 = try container.decode(SHA256Digest.self, forKey: .sha256)
        found = try container.decode(Bool.self, forKey: .found)
        offset = try container.decodeIfPresent(Int64.self, forKey: .offset)
        totalBytes = try container.decodeIfPresent(Int64.self, forKey: .totalBytes)
        bytes = Data()
    }

    public func validate() throws(ProtocolError) {
        try require((offset ?? 0) >= 0 && (totalBytes ?? 0) >= 0, "a chunk's offset and size must not be negative")
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
