/// Who sends a message kind.
public enum PeerRole: String, Sendable, Hashable, Codable, CaseIterable {
    case worker
    case coordinator
    case client
}

/// Frame 1 of every message: what the header means.
///
/// The raw value is the exact ASCII string on the wire. The structs live in
/// `Messages+Worker.swift` (worker → coordinator), `Messages+Coordinator.swift`
/// (coordinator → worker), `Messages+Client.swift` (client ↔ coordinator) and
/// `Messages+Common.swift` (both ways).
public enum MessageKind: String, Sendable, Hashable, Codable, CaseIterable {
    // worker → coordinator
    case hello
    case ready
    case progress
    case result
    case failure
    case blobRequest
    case goodbye
    /// An exact tiled job's shard sending its step's partial sums or edge pixels.
    case exchange
    // coordinator → worker
    case welcome
    case refused
    case assign
    case blob
    case cancel
    /// The summed partial sums, or the neighbours' edge pixels, for a shard.
    case exchanged
    // client → coordinator
    case submit
    case status
    case watch
    case cancelJob
    case setPriority
    case blockWorker
    case drainWorker
    // coordinator → client
    case submitted
    case statusReply
    case watchUpdate
    case cancelled
    case actionDone
    // either way
    case heartbeat
    case error

    /// The roles allowed to send this kind. A coordinator answers a kind sent by the wrong
    /// role with an ``ErrorReply`` rather than acting on it.
    public var senders: Set<PeerRole> {
        switch self {
        case .hello, .ready, .progress, .result, .failure, .blobRequest, .goodbye, .exchange: [.worker]
        case .welcome, .refused, .assign, .blob, .cancel, .exchanged: [.coordinator]
        case .submit, .status, .watch, .cancelJob, .setPriority, .blockWorker, .drainWorker: [.client]
        case .submitted, .statusReply, .watchUpdate, .cancelled, .actionDone: [.coordinator]
        case .heartbeat: [.worker, .coordinator]
        case .error: [.worker, .coordinator, .client]
        }
    }
}
