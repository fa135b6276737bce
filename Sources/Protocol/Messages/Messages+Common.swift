// Messages and value types that travel in more than one direction.

/// One line of a render's loss log: the losses after one optimiser iteration.
public struct LossLine: Sendable, Hashable, Codable {
    public var iteration: Int
    public var total: Double
    public var content: Double
    /// One entry per style image, in the order of the task's styles (already weighted).
    public var styles: [Double]
    public var tv: Double
    /// Seconds since the render started.
    public var elapsed: Double

    public init(iteration: Int, total: Double, content: Double, styles: [Double], tv: Double, elapsed: Double) {
        self.iteration = iteration
        self.total = total
        self.content = content
        self.styles = styles
        self.tv = tv
        self.elapsed = elapsed
    }
}

/// `heartbeat`, both ways: "I am still here". Sent every heartbeat interval by both sides
/// (a worker keeps sending while it computes); any message counts as a sign of life.
public struct Heartbeat: WireBody {
    public static let kind = MessageKind.heartbeat
    public init() {}
}

/// `error`: the reply to a message that was malformed or refused, in any direction.
public struct ErrorReply: WireBody {
    public static let kind = MessageKind.error
    /// A ``ProtocolError/Code`` raw value for envelope and header errors, or a short
    /// snake-or-camel-case code chosen by the coordinator (`unknownJob`, `notAuthorised`…).
    public var code: String
    public var message: String
    /// The kind of the message being answered, when it was readable.
    public var inReplyTo: String?

    public init(code: String, message: String, inReplyTo: String? = nil) {
        self.code = code
        self.message = message
        self.inReplyTo = inReplyTo
    }

    /// The reply to a message that failed to decode.
    public init(_ error: ProtocolError) {
        self.init(code: error.code.rawValue, message: error.message, inReplyTo: error.kind)
    }

    public func validate() throws(ProtocolError) {
        try require(!code.isEmpty, "an error reply needs a code")
    }
}
