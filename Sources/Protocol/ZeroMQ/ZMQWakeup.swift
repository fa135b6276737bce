internal import Foundation
internal import Synchronization

/// Wakes an I/O thread blocked in ``ZMQSocket/poll(_:timeout:)`` from any thread.
///
/// The I/O thread makes the receiving end with ``makeReceiver()`` and polls it next to its
/// working sockets; any thread calls ``signal()`` after putting work on a queue. Signals that
/// arrive while one is pending coalesce, so the receiver must ``drain(_:)`` and then look at the
/// whole queue.
public final class ZMQWakeup: Sendable {
    public let endpoint: String
    private let context: ZMQContext
    // A PUSH socket is not thread-safe; the mutex makes every use exclusive and libzmq allows
    // a socket to move between threads behind a full memory barrier, which the lock provides.
    private let sender: Mutex<ZMQSocket?>

    public init(context: ZMQContext) throws(ZMQError) {
        self.context = context
        endpoint = "inproc://stylefarm-wakeup-\(UUID().uuidString)"
        let socket = try ZMQSocket(context, type: .push, options: ZMQSocketOptions {
            $0.linger = .zero
            $0.sendHighWaterMark = 1
        })
        // inproc allows connect before bind (libzmq ≥ 4.0): the receiver may come later.
        try socket.connect(endpoint)
        sender = Mutex(socket)
    }

    /// Wakes the receiver. Never blocks; a full queue means a wake-up is already pending.
    public func signal() {
        sender.withLock { socket in
            _ = try? socket?.send([Data()], wait: false)
        }
    }

    /// Closes the sending side; later signals do nothing.
    public func close() {
        sender.withLock { socket in
            socket?.close()
            socket = nil
        }
    }

    /// The receiving end, for the I/O thread (call on that thread, once).
    public func makeReceiver() throws(ZMQError) -> ZMQSocket {
        let socket = try ZMQSocket(context, type: .pull, options: ZMQSocketOptions { $0.linger = .zero })
        do {
            try socket.bind(endpoint)
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Reads every pending signal without blocking.
    public static func drain(_ receiver: ZMQSocket) throws(ZMQError) {
        while try receiver.receive(maxFrames: 1, maxBytes: 0, wait: false) != nil {}
    }
}

