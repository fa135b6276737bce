public import Foundation

/// The frames of one ZeroMQ multipart message as read from a socket, bounded.
///
/// libzmq delivers a multipart message atomically, so a socket must read every part even when
/// the message is already known to be too big; it keeps at most a bounded number of frames and
/// bytes and counts the rest, so that ``WireMessage/init(decoding:limits:)`` can say exactly why
/// the message was refused without the reader copying an attacker's gigabytes.
public struct Multipart: Sendable, Hashable {
    /// The frames kept, in order.
    public var frames: [Data]
    /// Frames read but not kept because a limit was already exceeded.
    public var discardedFrames: Int
    /// The size of every frame read, kept or not.
    public var byteCount: Int
    /// The `User-Id` the ZAP handler gave the sender's connection (its allow-list name, e.g.
    /// `worker:node1`); nil without CURVE keys.
    public var userID: String?

    public init(frames: [Data], discardedFrames: Int = 0, byteCount: Int? = nil) {
        self.frames = frames
        self.discardedFrames = discardedFrames
        self.byteCount = byteCount ?? frames.reduce(0) { $0 + $1.count }
    }

    /// The number of frames the sender sent.
    public var frameCount: Int { frames.count + discardedFrames }
}
