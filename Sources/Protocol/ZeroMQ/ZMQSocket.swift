public import Foundation
internal import CSFZeroMQ

/// A ZeroMQ socket: ROUTER on the coordinator, DEALER on workers and clients (and the few
/// helper types used internally).
///
/// **One owner.** libzmq sockets are not thread-safe. A `ZMQSocket` is deliberately not
/// `Sendable`: create it on the thread that will use it (its I/O thread, which runs ``poll``)
/// and talk to that thread through queues and a ``ZMQWakeup``. Every libzmq error goes through
/// one funnel: `EINTR` is retried, `EAGAIN` is "would block" (a `nil` or `false` result), `ETERM`
/// is ``ZMQError/Code/contextTerminated``. A socket that fails to configure is closed before the
/// error is thrown; ``close()`` runs at the latest in `deinit`, with a bounded linger.
public final class ZMQSocket {
    public enum SocketType: Sendable, Hashable {
        case router, dealer, rep, req, pair, push, pull

        var raw: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .dealer: ZMQ_DEALER
            case .rep: ZMQ_REP
            case .req: ZMQ_REQ
            case .pair: ZMQ_PAIR
            case .push: ZMQ_PUSH
            case .pull: ZMQ_PULL
            }
        }
    }

    public let type: SocketType
    public let context: ZMQContext
    private(set) var handle: UnsafeMutableRawPointer?

    public init(_ context: ZMQContext, type: SocketType, options: ZMQSocketOptions = ZMQSocketOptions()) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.raw) else {
            throw ZMQError(errno: zmq_errno(), operation: "zmq_socket")
        }
        self.type = type
        self.context = context
        self.handle = handle
        do {
            try apply(options)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the socket; pending outgoing messages get at most the linger time. Idempotent.
    public func close() {
        guard let handle else { return }
        self.handle = nil
        zmq_close(handle)
    }

    public var isClosed: Bool { handle == nil }

    func requireHandle(_ operation: @autoclosure () -> String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else {
            throw ZMQError(code: .closed, errno: ENOTSOCK, operation: operation(), message: "the socket is closed")
        }
        return handle
    }

    // MARK: Endpoints

    /// Binds and returns the endpoint actually bound (`ZMQ_LAST_ENDPOINT`), which resolves
    /// `tcp://127.0.0.1:*` to the ephemeral port chosen.
    @discardableResult
    public func bind(_ endpoint: String) throws(ZMQError) -> String {
        let handle = try requireHandle("zmq_bind \(endpoint)")
        try zmqCallBlocking("zmq_bind \(endpoint)") { zmq_bind(handle, endpoint) }
        return try lastEndpoint()
    }

    public func connect(_ endpoint: String) throws(ZMQError) {
        let handle = try requireHandle("zmq_connect \(endpoint)")
        try zmqCallBlocking("zmq_connect \(endpoint)") { zmq_connect(handle, endpoint) }
    }

    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let handle = try requireHandle("zmq_disconnect \(endpoint)")
        try zmqCallBlocking("zmq_disconnect \(endpoint)") { zmq_disconnect(handle, endpoint) }
    }

    /// The endpoint last bound or connected, with wildcards resolved.
    public func lastEndpoint() throws(ZMQError) -> String {
        try stringOption(ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT")
    }

    // MARK: Sending and receiving

    /// Sends the frames as one multipart message.
    ///
    /// - Parameter wait: block while the high-water mark is reached (or, on a ROUTER, …)?
    /// - Returns: false if `wait` is false and the message could not be queued now. libzmq
    ///   accepts the remaining parts of a message once it accepted the first, so a message is
    ///   never half-sent.
    @discardableResult
    public func send(_ frames: [Data], wait: Bool = true) throws(ZMQError) -> Bool {
        let handle = try requireHandle("zmq_send")
        guard !frames.isEmpty else { return true }
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = wait ? 0 : ZMQ_DONTWAIT
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            let outcome = frame.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                Result { () throws(ZMQError) -> ZMQCallResult in
                    try zmqCall("zmq_send") { zmq_send(handle, bytes.baseAddress, bytes.count, flags) }
                }
            }
            if case .wouldBlock = try outcome.get() {
                // Only the first part can be refused (see above).
                return false
            }
        }
        return true
    }

    /// Receives one multipart message, keeping at most `maxFrames` frames and `maxBytes` bytes;
    /// the rest of the message is read and counted but not copied (see ``Multipart``).
    ///
    /// - Returns: nil if `wait` is false and nothing is queued.
    public func receive(maxFrames: Int, maxBytes: Int, wait: Bool = true) throws(ZMQError) -> Multipart? {
        let handle = try requireHandle("zmq_msg_recv")
        var frames: [Data] = []
        var discarded = 0
        var byteCount = 0
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        var first = true
        var userID: String?
        while true {
            let flags: Int32 = (first && !wait) ? ZMQ_DONTWAIT : 0
            let outcome = try zmqCall("zmq_msg_recv") { zmq_msg_recv(&message, handle, flags) }
            switch outcome {
            case .wouldBlock:
                // Only possible before the first part: the rest of a message is already queued.
                if first { return nil }
                continue
            case .done(let size):
                // On a ROUTER the first frame (the routing id) is made locally and carries no metadata.
                if userID == nil, let property = zmq_msg_gets(&message, "User-Id") { userID = String(cString: property) }
                first = false
                let size = Int(size)
                byteCount += size
                if discarded == 0 && frames.count < maxFrames && byteCount <= maxBytes {
                    if size == 0 {
                        frames.append(Data())
                    } else if let base = zmq_msg_data(&message) {
                        frames.append(Data(bytes: base, count: size))
                    } else {
                        frames.append(Data())
                    }
                } else {
                    discarded += 1
                }
            }
            if zmq_msg_more(&message) == 0 { break }
        }
        var multipart = Multipart(frames: frames, discardedFrames: discarded, byteCount: byteCount)
        multipart.userID = userID
        return multipart
    }

    /// Receives one multipart message bounded by the wire limits.
    public func receive(limits: WireLimits = .default, wait: Bool = true) throws(ZMQError) -> Multipart? {
        try receive(maxFrames: limits.maxFrames, maxBytes: limits.maxMessageBytes, wait: wait)
    }

    // MARK: Polling

    /// Waits until the socket is readable (or writable, as asked) or the timeout passes.
    /// - Parameter timeout: nil waits forever (until ``ZMQContext/shutdown()``).
    /// - Returns: the events that are ready; empty on timeout.
    public func poll(_ events: ZMQEvents = .readable, timeout: Duration?) throws(ZMQError) -> ZMQEvents {
        try ZMQSocket.poll([(self, events)], timeout: timeout)[0]
    }

    /// Waits on several sockets owned by the calling thread.
    /// - Returns: the ready events per socket, in the order given; all empty on timeout.
    public static func poll(_ sockets: [(ZMQSocket, ZMQEvents)], timeout: Duration?) throws(ZMQError) -> [ZMQEvents] {
        var items: [zmq_pollitem_t] = []
        items.reserveCapacity(sockets.count)
        for (socket, events) in sockets {
            let handle = try socket.requireHandle("zmq_poll")
            items.append(zmq_pollitem_t(socket: handle, fd: -1, events: Int16(events.rawValue), revents: 0))
        }
        let milliseconds: Int = timeout.map { Int($0.zmqMilliseconds) } ?? -1
        let count = items.count
        // EINTR restarts the wait with the full timeout; callers loop on their own deadline anyway.
        let outcome = items.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress
            return Result { () throws(ZMQError) in
                try zmqCallBlocking("zmq_poll") { zmq_poll(base, Int32(count), milliseconds) }
            }
        }
        _ = try outcome.get()
        return items.map { ZMQEvents(rawValue: Int32($0.revents)) }
    }
}

/// Readiness events for ``ZMQSocket/poll(_:timeout:)``.
public struct ZMQEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let readable = ZMQEvents(rawValue: Int32(ZMQ_POLLIN))
    public static let writable = ZMQEvents(rawValue: Int32(ZMQ_POLLOUT))
}
