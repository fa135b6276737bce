internal import CSFZeroMQ

/// A libzmq context: thread-safe, shared by every socket of the process.
///
/// Sockets keep their context alive, so `zmq_ctx_term` (in `deinit`) runs only after the last
/// socket is gone. ``shutdown()`` makes every blocking call on every socket of this context
/// return ``ZMQError/Code/contextTerminated`` at once: the way to stop I/O threads.
public final class ZMQContext: Sendable {
    // libzmq documents contexts as thread-safe; the pointer never changes after init.
    nonisolated(unsafe) let handle: UnsafeMutableRawPointer

    /// - Parameter ioThreads: libzmq background I/O threads (1 is plenty below ~1 GB/s).
    public init(ioThreads: Int32 = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else {
            throw ZMQError(errno: zmq_errno(), operation: "zmq_ctx_new")
        }
        self.handle = handle
        if zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) != 0 {
            let error = ZMQError(errno: zmq_errno(), operation: "zmq_ctx_set ZMQ_IO_THREADS=\(ioThreads)")
            zmq_ctx_term(handle)
            throw error
        }
    }

    /// Wakes every blocking call on this context's sockets with `ETERM`; new sockets fail.
    public func shutdown() {
        _ = zmq_ctx_shutdown(handle)
    }

    deinit {
        // Retry on EINTR; any other failure leaves nothing to do.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// Whether libzmq was built with a capability (`"curve"`, `"ipc"`…).
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) != 0
    }
}
