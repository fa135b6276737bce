internal import Foundation
internal import Synchronization
internal import Dispatch

/// Answers ZeroMQ authentication requests (ZAP, RFC 27) for the CURVE server sockets of one
/// context, from an allow-list of client public keys.
///
/// It binds `inproc://zeromq.zap.01` before ``init(context:allowList:domain:onDecision:)``
/// returns, so a CURVE server created afterwards never runs unauthenticated, then answers on
/// its own thread, which owns its sockets. Every decision, refusals included, goes to
/// `onDecision` (on the handler's thread: keep it short, e.g. log and return). ``stop()`` wakes
/// the thread, waits for it to close its sockets, and is idempotent; `deinit` stops too.
///
/// The reply's user id is the allowed key's name, which the server side can read as the
/// `User-Id` metadata of each message.
public final class ZAPHandler: Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"
    public static let version = "1.0"

    /// One authentication decision.
    public struct Decision: Sendable, CustomStringConvertible {
        public var allowed: Bool
        /// "200", "400" or "500", as replied.
        public var statusCode: String
        public var reason: String
        public var domain: String
        /// The peer's IP address as libzmq reports it.
        public var address: String
        public var mechanism: String
        /// The client's public key, for CURVE requests with valid credentials.
        public var publicKey: CurveKey?
        /// The allow-list name of the key, when allowed.
        public var keyName: String?

        public var description: String {
            let who = publicKey.map { "key \($0.z85)" } ?? "no key"
            return "\(allowed ? "allowed" : "refused") \(mechanism) client \(address) (\(who)) in domain '\(domain)': \(reason)"
        }
    }

    private let shared: Shared
    private let contextKey: UInt

    /// - Parameters:
    ///   - domain: when set, requests for any other ZAP domain are refused.
    ///   - onDecision: called for every request, on the handler's thread.
    public init(context: ZMQContext, allowList: CurveAllowList, domain: String? = nil,
                onDecision: @escaping @Sendable (Decision) -> Void = { _ in }) throws(ZMQError) {
        let wakeup = try ZMQWakeup(context: context)
        let shared = Shared(allowList: allowList, domain: domain, wakeup: wakeup, onDecision: onDecision)
        self.shared = shared
        let started = DispatchSemaphore(value: 0)
        let startResult = Mutex<Result<Void, ZMQError>>(.success(()))
        let thread = Thread {
            shared.run(context: context) { result in
                startResult.withLock { $0 = result }
                started.signal()
            }
        }
        thread.name = "stylefarm-zap"
        thread.start()
        started.wait()
        if case .failure(let error) = startResult.withLock({ $0 }) {
            wakeup.close()
            throw error
        }
        contextKey = UInt(bitPattern: context.handle)
        Self.running.withLock { $0[contextKey, default: 0] += 1 }
    }

    deinit { stop() }

    /// Replaces the allow-list; the next request uses the new one.
    public func update(_ allowList: CurveAllowList) {
        shared.allowList.withLock { $0 = allowList }
    }

    public var allowList: CurveAllowList { shared.allowList.withLock { $0 } }

    /// Stops answering and waits for the thread to close its sockets.
    ///
    /// Close the CURVE server sockets of the context first: libzmq 4.3 accepts new clients of a
    /// CURVE server whose context has no ZAP handler, unless it was built with the draft option
    /// `ZMQ_ZAP_ENFORCE_DOMAIN` (which ``ZMQSecurity/curveServer(secretKey:zapDomain:)`` sets
    /// when the library has it).
    public func stop() {
        let wasRunning = shared.running.withLock { running in
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        Self.running.withLock { counts in
            counts[contextKey, default: 1] -= 1
            if counts[contextKey] == 0 { counts[contextKey] = nil }
        }
        shared.wakeup.signal()
        shared.finished.wait()
        shared.wakeup.close()
    }

    /// Throws unless a ZAP handler of this process is running on `context` (checked before
    /// making a CURVE server). A registry rather than a probe bind: binding the ZAP endpoint to
    /// test it would hold the address until libzmq's reaper releases it.
    static func requireRunning(in context: ZMQContext) throws(ZMQError) {
        let key = UInt(bitPattern: context.handle)
        guard running.withLock({ $0[key, default: 0] > 0 }) else {
            throw ZMQError(code: .other, errno: 0, operation: "CURVE server",
                           message: "no ZAP handler is running on this context; start a ZAPHandler before creating a CURVE server socket, otherwise libzmq accepts every client key")
        }
    }

    /// Running handlers per context handle.
    private static let running = Mutex<[UInt: Int]>([:])
}

extension ZAPHandler {
    // Sendable: every stored property is immutable and Sendable or behind a Mutex; the sockets
    // themselves exist only inside `run`, on the handler's thread.
    fileprivate final class Shared: Sendable {
        let allowList: Mutex<CurveAllowList>
        let running = Mutex(true)
        let finished = DispatchSemaphore(value: 0)
        let domain: String?
        let wakeup: ZMQWakeup
        let onDecision: @Sendable (Decision) -> Void

        init(allowList: CurveAllowList, domain: String?, wakeup: ZMQWakeup, onDecision: @escaping @Sendable (Decision) -> Void) {
            self.allowList = Mutex(allowList)
            self.domain = domain
            self.wakeup = wakeup
            self.onDecision = onDecision
        }

        /// The handler thread: bind, report, answer until woken.
        func run(context: ZMQContext, started: (Result<Void, ZMQError>) -> Void) {
            let socket: ZMQSocket
            let wake: ZMQSocket
            do throws(ZMQError) {
                socket = try ZMQSocket(context, type: .rep, options: ZMQSocketOptions { $0.linger = .zero })
                do {
                    try socket.bind(ZAPHandler.endpoint)
                    wake = try wakeup.makeReceiver()
                } catch {
                    socket.close()
                    throw error
                }
            } catch {
                running.withLock { $0 = false }
                started(.failure(error))
                return
            }
            started(.success(()))
            defer {
                socket.close()
                wake.close()
                finished.signal()
            }
            while running.withLock({ $0 }) {
                do {
                    let ready = try ZMQSocket.poll([(socket, .readable), (wake, .readable)], timeout: nil)
                    if ready[1].contains(.readable) {
                        try ZMQWakeup.drain(wake)
                        continue
                    }
                    if ready[0].contains(.readable), let request = try socket.receive(maxFrames: 16, maxBytes: 4096, wait: false) {
                        let (reply, decision) = answer(request)
                        // Log first, so that a decision is on record before its client gets in.
                        onDecision(decision)
                        try socket.send(reply)
                    }
                } catch {
                    // ETERM: the context is shutting down. Anything else on a REP socket we own
                    // cannot be recovered here; either way the handler ends and servers refuse.
                    return
                }
            }
        }

        /// The reply frames and the decision for one request (RFC 27 §"Request and reply").
        func answer(_ request: Multipart) -> ([Data], Decision) {
            let frames = request.frames
            func text(_ index: Int) -> String {
                index < frames.count ? String(decoding: frames[index], as: UTF8.self) : ""
            }
            let requestID = frames.count > 1 ? frames[1] : Data()
            var decision = Decision(allowed: false, statusCode: "400", reason: "", domain: text(2),
                                    address: text(3), mechanism: text(5), publicKey: nil, keyName: nil)

            if request.discardedFrames > 0 || frames.count < 6 {
                decision.statusCode = "500"
                decision.reason = "malformed ZAP request (\(request.frameCount) frames)"
            } else if text(0) != ZAPHandler.version {
                decision.statusCode = "500"
                decision.reason = "unsupported ZAP version '\(text(0).prefix(16))'"
            } else if let domain, decision.domain != domain {
                decision.reason = "domain is not '\(domain)'"
            } else if decision.mechanism != "CURVE" {
                decision.reason = "only CURVE clients are accepted"
            } else if frames.count != 7 {
                decision.reason = "a CURVE request carries exactly one credential frame; got \(frames.count - 6)"
            } else if let key = CurveKey(bytes: frames[6]) {
                decision.publicKey = key
                if let name = allowList.withLock({ $0.names[key] }) {
                    decision.allowed = true
                    decision.statusCode = "200"
                    decision.reason = "key '\(name)' is on the allow-list"
                    decision.keyName = name
                } else {
                    decision.reason = "key is not on the allow-list; authorise it with 'stylefarm keys authorize'"
                }
            } else {
                decision.reason = "malformed CURVE credentials (\(frames[6].count) bytes; a key is 32)"
            }
            let reply = [
                Data(ZAPHandler.version.utf8), requestID, Data(decision.statusCode.utf8),
                Data((decision.allowed ? "OK" : decision.reason).utf8), Data((decision.keyName ?? "").utf8), Data(),
            ]
            return (reply, decision)
        }
    }
}
