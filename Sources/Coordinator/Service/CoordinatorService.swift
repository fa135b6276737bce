public import Engine
public import Foundation
public import Logging
public import Protocol
import Synchronization

/// The coordinator: one ROUTER socket, owned by the thread that calls `run()`, serving workers
/// and clients. Every state change goes to `FarmRecords` first, so `kill -9` loses nothing that
/// was acknowledged. A malformed message is answered with an error and logged; it never stops
/// the loop.
public final class CoordinatorService: @unchecked Sendable {
    // @unchecked Sendable: everything but `stopRequested` is touched only by the thread in run();
    // `stop()` (from a signal handler's queue) only sets the atomic flag.
    public struct Configuration: Sendable {
        public var endpoint: String
        public var dataDirectory: String
        public var heartbeat: Duration = .milliseconds(500)
        public var liveness = 6
        public var maximumAttempts = 3
        /// Failed attempts of one worker within a job before it gets no more of that job's tasks.
        public var failuresBeforeBlocking = 2
        public var limits = WireLimits.default
        /// With CURVE keys: the coordinator's own key pair. Workers and clients must then hold a
        /// key whose public half is in `<data>/authorized_keys/` (re-read while serving).
        public var keyPair: CurveKeyPair?

        public init(endpoint: String, dataDirectory: String) {
            self.endpoint = endpoint
            self.dataDirectory = dataDirectory
        }
    }

    struct WorkerSession {
        var id: String
        var name: String
        var threads: Int
        var credit: Int
        var lastSeen: ContinuousClock.Instant
        var attempts: Set<Int64>
    }

    public let configuration: Configuration
    public let records: FarmRecords
    public let blobs: BlobStore
    let logger: Logger
    let socket: ZMQSocket
    public let boundEndpoint: String
    private let stopRequested = Atomic<Bool>(false)
    var workers: [Data: WorkerSession] = [:]
    private var lastHeartbeat = ContinuousClock.now
    let clock = ContinuousClock()
    private let zap: ZAPHandler?
    let outputs: OutputWriter
    private let outputWakeup: ZMQWakeup
    private var lastAllowListLoad = ContinuousClock.now
    /// Blob digests of stored results that tiles read (coarse passes, style targets), by path.
    var resultBlobs: [String: String] = [:]
    /// Whether stitches may be ready without a result arriving (true after a restart).
    var stitchesMayWait = true
    /// Exact tiled jobs whose shards are running, by job id.
    var gangs: [String: ExactGang] = [:]

    public var authorizedKeysDirectory: String { configuration.dataDirectory + "/authorized_keys" }

    public init(configuration: Configuration, context: ZMQContext, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory + "/jobs", withIntermediateDirectories: true)
        records = try FarmRecords(path: configuration.dataDirectory + "/farm.sqlite", maximumAttempts: configuration.maximumAttempts)
        blobs = try BlobStore(root: configuration.dataDirectory + "/blobs")
        var options = ZMQSocketOptions(limits: configuration.limits)
        options.routerMandatory = true
        if let keyPair = configuration.keyPair {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory + "/authorized_keys", withIntermediateDirectories: true)
            let allowList = try CurveAllowList.load(directory: URL(fileURLWithPath: configuration.dataDirectory + "/authorized_keys"))
            let log = logger
            zap = try ZAPHandler(context: context, allowList: allowList, domain: "stylefarm") { decision in
                if !decision.allowed {
                    log.notice("refused a connection", metadata: ["peer.address": "\(decision.address)",
                                                                   "peer.key": "\(decision.publicKey?.z85 ?? "none")",
                                                                   "reason": "\(decision.reason)"])
                }
            }
            options.security = .curveServer(secretKey: keyPair.secretKey)
        } else {
            zap = nil
        }
        do {
            socket = try ZMQSocket(context, type: .router, options: options)
        } catch {
            zap?.stop()
            throw error
        }
        do {
            outputWakeup = try ZMQWakeup(context: context)
        } catch {
            socket.close()
            zap?.stop()
            throw error
        }
        outputs = OutputWriter(wakeup: outputWakeup)
        boundEndpoint = try socket.bind(configuration.endpoint)
        let requeued = try records.recoverAfterRestart()
        logger.info("coordinator listening", metadata: ["endpoint": "\(boundEndpoint)", "requeued.tasks": "\(requeued)"])
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Serves until `stop()`; then closes the socket.
    public func run() throws {
        // Close the CURVE server socket before the ZAP handler stops: libzmq admits any client
        // of a CURVE socket that has no handler.
        defer { socket.close(); zap?.stop(); outputWakeup.close() }
        let outputsWritten = try outputWakeup.makeReceiver()
        defer { outputsWritten.close() }
        while !stopRequested.load(ordering: .relaxed) {
            let events = try ZMQSocket.poll([(socket, .readable), (outputsWritten, .readable)], timeout: .milliseconds(100))
            var inbox: [RoutedMessage] = []
            if events[0].contains(.readable) {
                // Take what is queued without blocking (bounded, so housekeeping still runs
                // under a flood), then handle it as one batch.
                while inbox.count < Self.batchLimit,
                      let routed = try socket.receiveRouted(limits: configuration.limits, wait: false) {
                    inbox.append(routed)
                }
            }
            if events[1].contains(.readable) { try ZMQWakeup.drain(outputsWritten) }
            try housekeeping()
            try process(inbox)
        }
        // Record the results whose files are being written before leaving.
        outputs.flush()
        try commit([])
        logger.info("coordinator stopped")
    }

    /// Messages handled in one transaction at most.
    static let batchLimit = 1024

    // MARK: Messages

    /// Handles a batch of messages in arrival order. The frequent ones (ready, heartbeat,
    /// progress, result, failure) are collected and committed together with the leases they
    /// free (`commit`); any other message first commits what was collected, then is handled
    /// on its own, so its reply sees every earlier message's effect.
    func process(_ inbox: [RoutedMessage]) throws {
        var pending: [(peer: Data, message: Message)] = []
        for routed in inbox {
            let message: Message
            do {
                message = try routed.decode(limits: configuration.limits)
            } catch {
                logger.notice("refused a malformed message", metadata: ["error": "\(error)"])
                reply(.error(ErrorReply(error)), to: routed.identity)
                continue
            }
            if workers[routed.identity] != nil { workers[routed.identity]?.lastSeen = clock.now }
            switch message {
            case .ready, .heartbeat, .progress, .result, .failure:
                pending.append((routed.identity, message))
            default:
                try commit(pending)
                pending.removeAll()
                do {
                    try dispatch(message, from: routed.identity)
                } catch {
                    logger.notice("request failed", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
                    reply(.error(ErrorReply(code: "failed", message: "\(error)", inReplyTo: "\(message.kind)")), to: routed.identity)
                }
            }
        }
        try commit(pending)
    }

    /// The rare messages, each handled on its own.
    func dispatch(_ message: Message, from peer: Data) throws {
        switch message {
        case .hello(let hello):
            guard hello.protocolVersion == WireMessage.protocolVersion else {
                reply(.refused(Refused(reason: "protocol version \(hello.protocolVersion) is not \(WireMessage.protocolVersion)")), to: peer)
                return
            }
            let id = "\(hello.workerName)-\(peer.map { String(format: "%02x", $0) }.joined().suffix(8))"
            workers[peer] = WorkerSession(id: id, name: hello.workerName, threads: hello.threads, credit: 0,
                                          lastSeen: clock.now, attempts: [])
            try records.workerSeen(id: id, name: hello.workerName, threads: hello.threads, publicKey: nil)
            reply(.welcome(Welcome(workerID: id, heartbeatIntervalMilliseconds: Int(configuration.heartbeat.seconds * 1000),
                                   liveness: configuration.liveness)), to: peer)
            logger.info("worker joined", metadata: ["worker.id": "\(id)", "worker.threads": "\(hello.threads)"])
        case .blobRequest(let request):
            let bytes = try? blobs.read(request.sha256.hex)
            reply(.blob(BlobReply(sha256: request.sha256, bytes: bytes.map { Data($0) })), to: peer)
        case .goodbye(let goodbye):
            if let session = workers.removeValue(forKey: peer) {
                let requeued = try records.workerLost(session.id, reason: "worker left: \(goodbye.reason)")
                logger.info("worker left", metadata: ["worker.id": "\(session.id)", "requeued": "\(requeued)"])
            }
        case .submit(let submit):
            let jobID = try JobSubmission.accept(submit, records: records, blobs: blobs)
            logger.info("job submitted", metadata: ["job.id": "\(jobID)"])
            reply(.submitted(JobSubmitted(jobID: jobID)), to: peer)
        case .status(let query):
            reply(.statusReply(StatusReply(status: try FarmStatus.document(records: records, jobID: query.jobID,
                                                                            workers: workers.values.map { ($0.id, $0.threads) },
                                                                            dataDirectory: configuration.dataDirectory))), to: peer)
        case .cancelJob(let cancel):
            let running = try records.runningAttempts(ofJob: cancel.jobID)
            guard try records.cancelJob(cancel.jobID) else {
                throw EngineError(.invalidArgument, "job \(cancel.jobID) is unknown or already finished")
            }
            // Tell the workers to stop: they free their slot within a second instead of
            // finishing a render whose result would be dropped.
            for (attempt, task) in running {
                guard let (worker, _) = workers.first(where: { $0.value.attempts.contains(attempt) }) else { continue }
                workers[worker]?.attempts.remove(attempt)
                reply(.cancel(CancelTask(taskID: String(task), attemptID: attempt)), to: worker)
            }
            reply(.cancelled(JobCancelled(jobID: cancel.jobID)), to: peer)
        case .ready, .heartbeat, .progress, .result, .failure:
            try commit([(peer, message)])
        case .exchange(let exchange):
            guard workers[peer] != nil else { return refuseUnknown(peer) }
            relay(exchange, from: peer)
        case .welcome, .refused, .assign, .blob, .cancel, .exchanged, .submitted, .statusReply, .watch, .watchUpdate, .cancelled, .error:
            reply(.error(ErrorReply(code: "unexpected", message: "a coordinator does not accept '\(message.kind)' messages",
                                    inReplyTo: "\(message.kind)")), to: peer)
        }
    }

    /// A peer that never said hello, or said it to a coordinator that has since restarted (its
    /// DEALER reconnects by itself): not an error to refuse, a cue to start over.
    func refuseUnknown(_ peer: Data) {
        reply(.error(ErrorReply(code: CoordinatorService.unknownWorker, message: "unknown worker: send hello first")), to: peer)
    }

    public static let unknownWorker = "unknown-worker"

    // MARK: Scheduling and liveness

    func housekeeping() throws {
        let now = clock.now
        if let zap, now - lastAllowListLoad > .seconds(2) {
            lastAllowListLoad = now
            if let allowList = try? CurveAllowList.load(directory: URL(fileURLWithPath: authorizedKeysDirectory)) { zap.update(allowList) }
        }
        let limit = configuration.heartbeat * configuration.liveness
        for (peer, session) in workers where now - session.lastSeen > limit {
            workers.removeValue(forKey: peer)
            let requeued = try records.workerLost(session.id, reason: "silent for \(limit)")
            logger.notice("worker lost", metadata: ["worker.id": "\(session.id)", "requeued": "\(requeued)"])
        }
        if now - lastHeartbeat >= configuration.heartbeat {
            lastHeartbeat = now
            try checkGangs()
            for peer in workers.keys { reply(.heartbeat(Heartbeat()), to: peer) }
        }
    }

    @discardableResult
    func reply(_ message: Message, to peer: Data) -> Bool {
        do {
            return try socket.send(try message.wireMessage(), to: peer, wait: false)
        } catch {
            logger.info("could not send", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
            return false
        }
    }
}
