public import Foundation

// Messages between a CLI client and the coordinator. Every request gets exactly one reply
// (`watch` gets a stream of `watchUpdate`s ending with one whose `finished` is true); a request
// that cannot be served gets an `error`.

/// `submit`: a new job. The spec is opaque to Protocol; its input files travel as binary
/// frames, one per entry of `blobs`, in the same order.
public struct SubmitJob: WireBody {
    public static let kind = MessageKind.submit
    public var spec: JSONValue
    /// What the spec describes: "sweep" (nil, for clients that predate tiled jobs) or "tiled".
    public var kind: String?
    public var priority: Int
    /// The SHA-256 of each binary frame, in frame order; the coordinator checks them.
    public var blobs: [SHA256Digest]
    /// The input files (frames 3…).
    public var blobData: [Data]

    private enum CodingKeys: String, CodingKey { case spec, kind, priority, blobs }

    public init(spec: JSONValue, kind: String? = nil, priority: Int = 0, blobs: [SHA256Digest], blobData: [Data]) {
        self.spec = spec
        self.kind = kind
        self.priority = priority
        self.blobs = blobs
        self.blobData = blobData
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        spec = try container.decode(JSONValue.self, forKey: .spec)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        priority = try container.decode(Int.self, forKey: .priority)
        blobs = try container.decode([SHA256Digest].self, forKey: .blobs)
        blobData = []
    }

    public var payloads: [Data] { blobData }

    public mutating func attach(payloads: [Data]) throws(ProtocolError) {
        guard payloads.count == blobs.count else {
            throw ProtocolError(.wrongPayloadCount, "'submit' lists \(blobs.count) blobs but carries \(payloads.count) binary frames", kind: Self.kind.rawValue)
        }
        blobData = payloads
    }
}

/// `submitted`: the job was accepted under this id.
public struct JobSubmitted: WireBody {
    public static let kind = MessageKind.submitted
    public var jobID: String

    public init(jobID: String) { self.jobID = jobID }
}

/// `status`: the state of one job, or of the farm when `jobID` is nil (at most `limit` jobs,
/// unfinished first, then the newest; the rest are counted).
public struct StatusQuery: WireBody {
    public static let kind = MessageKind.status
    public static let defaultLimit = 100
    public static let maximumLimit = 500
    public var jobID: String?
    public var limit: Int?

    public init(jobID: String? = nil, limit: Int? = nil) {
        self.jobID = jobID
        self.limit = limit
    }

    public func validate() throws(ProtocolError) {
        try require(jobID.map { !$0.isEmpty && $0.utf8.count <= 64 } ?? true, "a job id is 1–64 bytes")
        try require(limit.map { (1...Self.maximumLimit).contains($0) } ?? true, "limit must be 1–\(Self.maximumLimit)")
    }
}

/// `statusReply`: the status document, opaque to Protocol.
public struct StatusReply: WireBody {
    public static let kind = MessageKind.statusReply
    public var status: JSONValue

    public init(status: JSONValue) { self.status = status }
}

/// `watch`: stream updates about a job until it finishes.
public struct WatchJob: WireBody {
    public static let kind = MessageKind.watch
    public var jobID: String

    public init(jobID: String) { self.jobID = jobID }
}

/// `watchUpdate`: one update of a watched job; the last one has `finished == true`.
public struct WatchUpdate: WireBody {
    public static let kind = MessageKind.watchUpdate
    public var jobID: String
    public var update: JSONValue
    public var finished: Bool

    public init(jobID: String, update: JSONValue, finished: Bool) {
        self.jobID = jobID
        self.update = update
        self.finished = finished
    }
}

/// `cancelJob`: cancel a job and every running attempt of it.
public struct CancelJob: WireBody {
    public static let kind = MessageKind.cancelJob
    public var jobID: String

    public init(jobID: String) { self.jobID = jobID }
}

/// `cancelled`: the job is cancelled (running attempts have been told to stop).
public struct JobCancelled: WireBody {
    public static let kind = MessageKind.cancelled
    public var jobID: String

    public init(jobID: String) { self.jobID = jobID }
}
