internal import CSFZeroMQ

/// A libzmq call failed.
public struct ZMQError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The context was shut down or terminated (`ETERM`): the owner should close the socket and stop.
        case contextTerminated
        /// A ROUTER with `ZMQ_ROUTER_MANDATORY` has no peer with that identity (`EHOSTUNREACH`).
        case peerUnreachable
        /// The endpoint could not be bound (in use) or is malformed (`EADDRINUSE`, `EINVAL`, `EPROTONOSUPPORT`…).
        case endpoint
        /// A socket or context had been closed already.
        case closed
        /// Anything else; ``ZMQError/errno`` says what.
        case other
    }

    public var code: Code
    /// The raw errno value from `zmq_errno()` (0 when the error did not come from libzmq).
    public var errno: Int32
    /// The libzmq function that failed, and what it was doing (`zmq_bind tcp://…`).
    public var operation: String
    /// `zmq_strerror` text or a description of the problem.
    public var message: String

    public init(code: Code, errno: Int32, operation: String, message: String) {
        self.code = code
        self.errno = errno
        self.operation = operation
        self.message = message
    }

    /// Classifies a libzmq errno.
    init(errno: Int32, operation: String) {
        let code: Code
        switch errno {
        case zmqETERM: code = .contextTerminated
        case EHOSTUNREACH: code = .peerUnreachable
        case EADDRINUSE, EADDRNOTAVAIL, EPROTONOSUPPORT, ENOENT: code = .endpoint
        case EINVAL where operation.hasPrefix("zmq_bind") || operation.hasPrefix("zmq_connect"): code = .endpoint
        case ENOTSOCK: code = .closed
        default: code = .other
        }
        let text = zmq_strerror(errno).map { String(cString: $0) } ?? "errno \(errno)"
        self.init(code: code, errno: errno, operation: operation, message: text)
    }

    public var description: String { "\(operation) failed: \(message) (errno \(errno))" }
}

/// `ETERM` is a macro expression (`ZMQ_HAUSNUMERO + 53`) Swift may not import on every platform.
let zmqETERM: Int32 = 156_384_712 + 53

/// The outcome of a non-blocking libzmq call.
enum ZMQCallResult {
    case done(Int32)
    /// `EAGAIN`: nothing to receive, or the send would block at the high-water mark.
    case wouldBlock
}

/// The one funnel for libzmq calls returning `-1` on error, after NIO's `syscall`:
/// retries `EINTR`, reports `EAGAIN` as ``ZMQCallResult/wouldBlock``, throws a ``ZMQError``
/// keeping the errno for everything else (`ETERM` becomes ``ZMQError/Code/contextTerminated``).
@inline(__always)
func zmqCall(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(ZMQError) -> ZMQCallResult {
    while true {
        let result = body()
        if result != -1 { return .done(result) }
        let error = zmq_errno()
        switch error {
        case EINTR: continue
        case EAGAIN: return .wouldBlock
        default: throw ZMQError(errno: error, operation: operation())
        }
    }
}

/// For calls where `EAGAIN` cannot happen or is itself an error (setsockopt, bind…).
@inline(__always)
@discardableResult
func zmqCallBlocking(_ operation: @autoclosure () -> String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
    switch try zmqCall(operation(), body) {
    case .done(let result): return result
    case .wouldBlock: throw ZMQError(code: .other, errno: EAGAIN, operation: operation(), message: "resource temporarily unavailable")
    }
}
