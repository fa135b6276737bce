/// Size limits applied to every message before anything is decoded.
///
/// The defaults suit a farm that ships PNG tiles and float32 Gram matrices; raise
/// ``maxFrameBytes`` and ``maxMessageBytes`` together for very large images. The socket layer
/// also sets `ZMQ_MAXMSGSIZE` to ``maxFrameBytes`` so that libzmq drops a peer that sends a
/// larger frame before it is buffered.
public struct WireLimits: Sendable, Hashable {
    /// The JSON header (frame 2). Fixed by the protocol at 64 KiB by default.
    public var maxHeaderBytes: Int
    /// Any single binary frame.
    public var maxFrameBytes: Int
    /// The sum of all frames of one message.
    public var maxMessageBytes: Int
    /// The number of frames, envelope included (not counting a ROUTER identity frame).
    public var maxFrames: Int

    public static let `default` = WireLimits()

    public init(
        maxHeaderBytes: Int = 64 * 1024,
        maxFrameBytes: Int = 256 * 1024 * 1024,
        maxMessageBytes: Int = 256 * 1024 * 1024,
        maxFrames: Int = 16
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxFrameBytes = maxFrameBytes
        self.maxMessageBytes = maxMessageBytes
        self.maxFrames = maxFrames
    }

    /// Binary frames a message may carry after the three envelope frames.
    public var maxPayloads: Int { max(0, maxFrames - WireMessage.envelopeFrameCount) }
}
