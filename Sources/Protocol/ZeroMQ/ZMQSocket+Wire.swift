public import Foundation

/// A message received on a ROUTER: who sent it, and its frames (not yet decoded).
public struct RoutedMessage: Sendable, Hashable {
    /// The peer's routing identity; pass it back to ``ZMQSocket/send(_:to:wait:)`` to reply.
    public var identity: Data
    public var multipart: Multipart

    public init(identity: Data, multipart: Multipart) {
        self.identity = identity
        self.multipart = multipart
    }

    /// Decodes the message; on failure, reply with `ErrorReply(error)` and keep serving.
    public func decode(limits: WireLimits = .default) throws(ProtocolError) -> Message {
        try Message(decoding: multipart, limits: limits)
    }
}

extension ZMQSocket {
    /// ROUTER identities are at most 255 bytes (ZMTP).
    static let maxIdentityBytes = 255

    /// Sends a StyleFarm message (DEALER side, or any socket without routing).
    @discardableResult
    public func send(_ message: WireMessage, wait: Bool = true) throws(ZMQError) -> Bool {
        try send(message.frames, wait: wait)
    }

    /// Sends a StyleFarm message to one peer of a ROUTER. With `routerMandatory`, an unknown
    /// identity throws ``ZMQError/Code/peerUnreachable``; without it the message is dropped.
    @discardableResult
    public func send(_ message: WireMessage, to identity: Data, wait: Bool = true) throws(ZMQError) -> Bool {
        try send([identity] + message.frames, wait: wait)
    }

    /// Receives one message on a ROUTER, separating the sender's identity from the frames.
    /// - Returns: nil if `wait` is false and nothing is queued.
    public func receiveRouted(limits: WireLimits = .default, wait: Bool = true) throws(ZMQError) -> RoutedMessage? {
        guard let raw = try receive(maxFrames: limits.maxFrames + 1, maxBytes: limits.maxMessageBytes + Self.maxIdentityBytes, wait: wait) else {
            return nil
        }
        guard let identity = raw.frames.first else {
            // Cannot happen on a ROUTER (libzmq always prepends the identity); treat as empty.
            return RoutedMessage(identity: Data(), multipart: raw)
        }
        var rest = Multipart(frames: Array(raw.frames.dropFirst()), discardedFrames: raw.discardedFrames, byteCount: raw.byteCount - identity.count)
        rest.userID = raw.userID
        return RoutedMessage(identity: identity, multipart: rest)
    }

    /// Receives and decodes one message (DEALER side). The outer error is the socket's, the
    /// inner result the decoder's: a malformed message does not end the receive loop.
    public func receiveMessage(limits: WireLimits = .default, wait: Bool = true) throws(ZMQError) -> Result<Message, ProtocolError>? {
        guard let multipart = try receive(limits: limits, wait: wait) else { return nil }
        return Result { () throws(ProtocolError) in try Message(decoding: multipart, limits: limits) }
    }
}
