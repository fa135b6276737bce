/// Why a message could not be encoded or decoded.
///
/// Every byte sequence that arrives from the network either decodes into a ``Message`` or
/// produces one of these; nothing in the decoder traps. The coordinator logs the message and
/// answers the sender with an ``ErrorReply`` carrying ``code``.
public struct ProtocolError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// Frame 0 is not the StyleFarm protocol tag.
        case wrongTag
        /// The tag is right but the version is one this build does not speak.
        case unsupportedVersion
        /// Frame 1 names no message kind this build knows.
        case unknownKind
        /// Frame 2 is not valid JSON for the kind, has unknown keys, or has invalid values.
        case malformedHeader
        /// The number of binary frames does not match what the kind carries.
        case wrongPayloadCount
        /// A header, a frame or the whole message is larger than the limits allow (or an image
        /// frame declares more pixels than its kind allows).
        case tooLarge
        /// A binary frame is not what the kind carries there (a preview that is not a PNG or JPEG).
        case invalidPayload
        /// More frames than the limits allow.
        case tooManyFrames
        /// Fewer than the three envelope frames.
        case truncated
        /// A message this build could not encode (a bug on the sending side, or a value JSON cannot hold).
        case unencodable
    }

    public var code: Code
    /// What was wrong and, where possible, what to do about it.
    public var message: String
    /// The message kind, when the envelope got far enough to name one.
    public var kind: String?
    /// The error that caused this one (a `DecodingError`, for instance), if any.
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, kind: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.kind = kind
        self.underlying = underlying
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }
}
