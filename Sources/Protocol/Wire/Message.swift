public import Foundation

/// Every message of the protocol, decoded.
///
/// ```swift
/// let message = try Message(decoding: multipart, limits: limits)   // never traps
/// let frames = try Message.ready(Ready(credit: 2)).wireMessage().frames
/// ```
public enum Message: Sendable, Equatable {
    // worker → coordinator
    case hello(Hello)
    case ready(Ready)
    case progress(TaskProgress)
    case result(TaskResult)
    case failure(TaskFailure)
    case blobRequest(BlobRequest)
    case goodbye(Goodbye)
    case exchange(ShardExchange)
    // coordinator → worker
    case welcome(Welcome)
    case refused(Refused)
    case assign(TaskAssignment)
    case blob(BlobReply)
    case cancel(CancelTask)
    case exchanged(ShardExchangeReply)
    // client ↔ coordinator
    case submit(SubmitJob)
    case submitted(JobSubmitted)
    case status(StatusQuery)
    case statusReply(StatusReply)
    case watch(WatchJob)
    case watchUpdate(WatchUpdate)
    case cancelJob(CancelJob)
    case cancelled(JobCancelled)
    case setPriority(SetJobPriority)
    case blockWorker(BlockWorker)
    case drainWorker(DrainWorker)
    case actionDone(ActionDone)
    // either way
    case heartbeat(Heartbeat)
    case error(ErrorReply)

    public var kind: MessageKind { body.kindOfBody }

    /// The header struct, type-erased.
    public var body: any WireBody {
        switch self {
        case .hello(let body): body
        case .ready(let body): body
        case .progress(let body): body
        case .result(let body): body
        case .failure(let body): body
        case .blobRequest(let body): body
        case .goodbye(let body): body
        case .exchange(let body): body
        case .exchanged(let body): body
        case .welcome(let body): body
        case .refused(let body): body
        case .assign(let body): body
        case .blob(let body): body
        case .cancel(let body): body
        case .submit(let body): body
        case .submitted(let body): body
        case .status(let body): body
        case .statusReply(let body): body
        case .watch(let body): body
        case .watchUpdate(let body): body
        case .cancelJob(let body): body
        case .cancelled(let body): body
        case .setPriority(let body): body
        case .blockWorker(let body): body
        case .drainWorker(let body): body
        case .actionDone(let body): body
        case .heartbeat(let body): body
        case .error(let body): body
        }
    }

    /// Decodes the envelope, the header (strictly) and the payloads of a received message.
    public init(decoding multipart: Multipart, limits: WireLimits = .default) throws(ProtocolError) {
        try self.init(decoding: WireMessage(decoding: multipart, limits: limits))
    }

    /// Decodes the header (strictly) and the payloads of an envelope that passed its checks.
    public init(decoding wire: WireMessage) throws(ProtocolError) {
        switch wire.kind {
        case .hello: self = .hello(try Self.body(wire))
        case .ready: self = .ready(try Self.body(wire))
        case .progress: self = .progress(try Self.body(wire))
        case .result: self = .result(try Self.body(wire))
        case .failure: self = .failure(try Self.body(wire))
        case .blobRequest: self = .blobRequest(try Self.body(wire))
        case .goodbye: self = .goodbye(try Self.body(wire))
        case .exchange: self = .exchange(try Self.body(wire))
        case .exchanged: self = .exchanged(try Self.body(wire))
        case .welcome: self = .welcome(try Self.body(wire))
        case .refused: self = .refused(try Self.body(wire))
        case .assign: self = .assign(try Self.body(wire))
        case .blob: self = .blob(try Self.body(wire))
        case .cancel: self = .cancel(try Self.body(wire))
        case .submit: self = .submit(try Self.body(wire))
        case .submitted: self = .submitted(try Self.body(wire))
        case .status: self = .status(try Self.body(wire))
        case .statusReply: self = .statusReply(try Self.body(wire))
        case .watch: self = .watch(try Self.body(wire))
        case .watchUpdate: self = .watchUpdate(try Self.body(wire))
        case .cancelJob: self = .cancelJob(try Self.body(wire))
        case .cancelled: self = .cancelled(try Self.body(wire))
        case .setPriority: self = .setPriority(try Self.body(wire))
        case .blockWorker: self = .blockWorker(try Self.body(wire))
        case .drainWorker: self = .drainWorker(try Self.body(wire))
        case .actionDone: self = .actionDone(try Self.body(wire))
        case .heartbeat: self = .heartbeat(try Self.body(wire))
        case .error: self = .error(try Self.body(wire))
        }
    }

    /// The envelope to send. Validates the body first, so a sender cannot emit a message the
    /// receiving side would refuse.
    public func wireMessage() throws(ProtocolError) -> WireMessage {
        try body.wireMessageOfBody()
    }

    /// The frames to send (envelope, header, payloads).
    public func frames() throws(ProtocolError) -> [Data] {
        try wireMessage().frames
    }

    private static func body<Body: WireBody>(_ wire: WireMessage) throws(ProtocolError) -> Body {
        var body = try HeaderCoding.decodeStrictly(Body.self, from: wire.header)
        try body.attach(payloads: wire.payloads)
        try body.validate()
        return body
    }
}

extension WireBody {
    fileprivate var kindOfBody: MessageKind { Self.kind }

    fileprivate func wireMessageOfBody() throws(ProtocolError) -> WireMessage {
        try validate()
        return WireMessage(kind: Self.kind, header: try HeaderCoding.encode(self), payloads: payloads)
    }

    /// This body as a ready-to-send envelope.
    public func wireMessage() throws(ProtocolError) -> WireMessage {
        try wireMessageOfBody()
    }
}
