public import Foundation
internal import Synchronization
internal import Dispatch

/// One I/O thread owning one socket: the pattern STYLE.md asks for.
///
/// The thread creates the socket (through `makeSocket`, which also binds or connects it), then
/// runs `zmq_poll` on it and on a ``ZMQWakeup``. Received messages come out of ``events`` (an
/// `AsyncStream`, so any task can consume them); ``send(_:to:)`` may be called from any thread
/// or task: it queues the frames and wakes the I/O thread, which sends them.
///
/// Sends never block the loop. A DEALER at its high-water mark keeps the rest of the queue until
/// the socket is writable again; a ROUTER reports a message it cannot deliver (unknown peer with
/// `routerMandatory`, or a peer at its high-water mark) as ``Event/sendFailed(identity:error:)``
/// instead of stalling every other peer.
///
/// The inbound stream is unbounded: a consumer must keep up (libzmq's receive high-water mark
/// bounds what is queued before the loop reads it, not after).
public final class ZMQSocketLoop: Sendable {
    public enum Event: Sendable {
        /// A message; `identity` is the sender's on a ROUTER, nil otherwise.
        case message(identity: Data?, Multipart)
        /// A queued message could not be delivered.
        case sendFailed(identity: Data?, error: ZMQError)
        /// The loop ended: `nil` after ``stop()``, an error if the socket failed (or the context
        /// was shut down: ``ZMQError/Code/contextTerminated``). Always the last event.
        case stopped(ZMQError?)
    }

    public let events: AsyncStream<Event>
    /// The endpoint the socket last bound or connected, wildcards resolved.
    public let endpoint: String

    private let shared: Shared

    /// - Parameter makeSocket: runs on the I/O thread; creates the socket and binds or connects it.
    public init(context: ZMQContext, name: String, limits: WireLimits = .default,
                makeSocket: @escaping @Sendable (ZMQContext) throws(ZMQError) -> ZMQSocket) throws(ZMQError) {
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let shared = Shared(wakeup: try ZMQWakeup(context: context), continuation: continuation, limits: limits)
        let started = DispatchSemaphore(value: 0)
        let startResult = Mutex<Result<String, ZMQError>>(.success(""))
        let thread = Thread {
            shared.run(context: context, makeSocket: makeSocket) { result in
                startResult.withLock { $0 = result }
                started.signal()
            }
        }
        thread.name = name
        thread.start()
        started.wait()
        switch startResult.withLock({ $0 }) {
        case .success(let endpoint):
            self.endpoint = endpoint
        case .failure(let error):
            shared.wakeup.close()
            continuation.finish()
            throw error
        }
        self.events = events
        self.shared = shared
    }

    deinit { stop() }

    /// Queues a message for the I/O thread. `identity` is required on a ROUTER, nil otherwise.
    public func send(_ message: WireMessage, to identity: Data? = nil) {
        send(frames: message.frames, to: identity)
    }

    /// Queues raw frames (tests and special cases).
    public func send(frames: [Data], to identity: Data? = nil) {
        let accepted = shared.state.withLock { state in
            guard state.running else { return false }
            state.outbound.append(Outbound(identity: identity, frames: frames))
            return true
        }
        if accepted { shared.wakeup.signal() }
    }

    /// Stops the loop: the thread closes the socket (pending sends get the socket's linger) and
    /// ends ``events`` with `.stopped(nil)`. Waits for the thread; idempotent.
    public func stop() {
        let wasRunning = shared.state.withLock { state in
            defer { state.running = false }
            return state.running
        }
        guard wasRunning else { return }
        shared.wakeup.signal()
        shared.finished.wait()
        shared.wakeup.close()
    }
}

extension ZMQSocketLoop {
    struct Outbound {
        var identity: Data?
        var frames: [Data]
    }

    struct State {
        var running = true
        var outbound: [Outbound] = []
    }

    // Sendable: immutable Sendable properties, or state behind a Mutex; the socket lives only
    // inside `run`, on the I/O thread.
    final class Shared: Sendable {
        let wakeup: ZMQWakeup
        let continuation: AsyncStream<Event>.Continuation
        let limits: WireLimits
        let state = Mutex(State())
        let finished = DispatchSemaphore(value: 0)
        /// Messages read per wake-up before sends get a turn.
        let receiveBatch = 64

        init(wakeup: ZMQWakeup, continuation: AsyncStream<Event>.Continuation, limits: WireLimits) {
            self.wakeup = wakeup
            self.continuation = continuation
            self.limits = limits
        }

        func run(context: ZMQContext, makeSocket: (ZMQContext) throws(ZMQError) -> ZMQSocket,
                 started: (Result<String, ZMQError>) -> Void) {
            let socket: ZMQSocket
            let wake: ZMQSocket
            do throws(ZMQError) {
                socket = try makeSocket(context)
                do {
                    wake = try wakeup.makeReceiver()
                    started(.success(try socket.lastEndpoint()))
                } catch {
                    socket.close()
                    throw error
                }
            } catch {
                state.withLock { $0.running = false }
                started(.failure(error))
                finished.signal()
                return
            }
            var failure: ZMQError?
            do {
                try loop(socket: socket, wake: wake)
            } catch {
                failure = error
            }
            state.withLock { $0.running = false; $0.outbound.removeAll() }
            socket.close()
            wake.close()
            continuation.yield(.stopped(failure))
            continuation.finish()
            finished.signal()
        }

        private func loop(socket: ZMQSocket, wake: ZMQSocket) throws(ZMQError) {
            let routed = socket.type == .router
            var pending: [Outbound] = []
            while true {
                // Take new work, then send until done or the socket pushes back.
                let (running, queued) = state.withLock { state in
                    defer { state.outbound.removeAll(keepingCapacity: true) }
                    return (state.running, state.outbound)
                }
                if !running { return }
                pending += queued
                var index = 0
                while index < pending.count {
                    let item = pending[index]
                    let frames = item.identity.map { [$0] + item.frames } ?? item.frames
                    do {
                        if try socket.send(frames, wait: false) {
                            index += 1
                        } else if routed {
                            continuation.yield(.sendFailed(identity: item.identity, error: ZMQError(code: .other, errno: EAGAIN, operation: "zmq_send", message: "the peer's queue is full (high-water mark); message dropped")))
                            index += 1
                        } else {
                            break
                        }
                    } catch where error.code == .peerUnreachable {
                        continuation.yield(.sendFailed(identity: item.identity, error: error))
                        index += 1
                    }
                }
                pending.removeFirst(index)

                let interest: ZMQEvents = pending.isEmpty ? .readable : [.readable, .writable]
                let ready = try ZMQSocket.poll([(socket, interest), (wake, .readable)], timeout: nil)
                if ready[1].contains(.readable) {
                    try ZMQWakeup.drain(wake)
                }
                if ready[0].contains(.readable) {
                    for _ in 0..<receiveBatch {
                        if routed {
                            guard let message = try socket.receiveRouted(limits: limits, wait: false) else { break }
                            continuation.yield(.message(identity: message.identity, message.multipart))
                        } else {
                            guard let message = try socket.receive(limits: limits, wait: false) else { break }
                            continuation.yield(.message(identity: nil, message))
                        }
                    }
                }
            }
        }
    }
}
