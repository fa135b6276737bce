public import Foundation

/// Socket options applied when a ``ZMQSocket`` is created, before it binds or connects
/// (libzmq reads most of them only then).
public struct ZMQSocketOptions: Sendable {
    /// How long `close` may keep unsent messages (`ZMQ_LINGER`). Always bounded: an unbounded
    /// linger makes process exit hang on an unreachable peer.
    public var linger: Duration = .seconds(1)
    /// Messages queued per peer before sends block or drop (`ZMQ_SNDHWM`, `ZMQ_RCVHWM`).
    public var sendHighWaterMark: Int32 = 1000
    public var receiveHighWaterMark: Int32 = 1000
    /// `ZMQ_MAXMSGSIZE`: libzmq disconnects a peer that sends a larger frame before buffering it.
    /// Defaults to the wire limit for one frame.
    public var maxMessageSize: Int64? = Int64(WireLimits.default.maxFrameBytes)
    /// `ZMQ_ROUTING_ID` of a DEALER, as the ROUTER will see it (1–255 bytes, not starting with 0).
    public var routingID: Data?
    /// `ZMQ_ROUTER_MANDATORY`: sending to an unknown identity fails with
    /// ``ZMQError/Code/peerUnreachable`` instead of being dropped silently.
    public var routerMandatory = false
    /// `ZMQ_ROUTER_HANDOVER`: a reconnecting peer with the same routing id takes over.
    public var routerHandover = false
    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections.
    public var immediate = false
    /// ZMTP heartbeats (`ZMQ_HEARTBEAT_IVL`, `_TIMEOUT`, `_TTL`): libzmq pings the connection and
    /// drops it when the peer stops answering. Independent of the protocol's own heartbeats.
    public var heartbeat: Heartbeat?
    /// Authentication and encryption.
    public var security: ZMQSecurity = .none

    public struct Heartbeat: Sendable, Hashable {
        public var interval: Duration
        public var timeout: Duration
        public var ttl: Duration

        public init(interval: Duration, timeout: Duration, ttl: Duration) {
            self.interval = interval
            self.timeout = timeout
            self.ttl = ttl
        }
    }

    public init() {}

    public init(_ configure: (inout ZMQSocketOptions) -> Void) {
        configure(&self)
    }

    /// Options whose `ZMQ_MAXMSGSIZE` matches `limits` (raise both together).
    public init(limits: WireLimits, _ configure: (inout ZMQSocketOptions) -> Void = { _ in }) {
        maxMessageSize = Int64(limits.maxFrameBytes)
        configure(&self)
    }
}

extension Duration {
    /// Whole milliseconds, clamped to `Int32` (libzmq's unit for time options).
    var zmqMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
        guard !milliseconds.overflow else { return seconds < 0 ? 0 : Int32.max }
        let total = milliseconds.partialValue + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, total))
    }
}
