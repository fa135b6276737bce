public import Engine
public import Foundation
public import Logging
public import Protocol
public import Farm
import Synchronization
import Dispatch

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
        /// Failures a task may cause, and losses it may suffer, before its job fails.
        public var budget = FarmRecords.AttemptBudget()
        /// What a submission may ask for (iterations, pixels, points…).
        public var jobLimits = JobLimits()
        /// Failed attempts (task-caused) of one worker, by name, within a job before it is
        /// blocked for that job (recorded, with the reason; an operator may lift it). Below the
        /// task's failure budget (3), so that one broken worker cannot use a task's whole
        /// budget and fail the job alone: its second failure blocks it and another worker
        /// takes the task.
        public var failuresBeforeBlocking = 2
        /// Operator actions from other threads (HTTP) waiting for the loop, at most.
        public var actionQueueLimit = 64
        public var limits = WireLimits.default
        /// With CURVE keys: the coordinator's own key pair. Workers and clients must then hold a
        /// key whose public half is in `<data>/authorized_keys/` (re-read while serving).
        public var keyPair: CurveKeyPair?
        /// The weights every worker must render with, served to nodes that have none. Without
        /// them, workers bring their own and are not checked.
        public var weights: ServedWeights?
        /// What workers that can send previews are asked for (`welcome`); nil: none are taken.
        public var previews: PreviewOffer? = PreviewOffer()

        public init(endpoint: String, dataDirectory: String) {
            self.endpoint = endpoint
            self.dataDirectory = dataDirectory
        }
    }

    /// The workers an exact job submitted now would be sized for: those connected, not
    /// drained, that announced the shard work order; the smallest memory one of them announced.
    func exactCapacity() -> ExactCapacity {
        let capable = workers.values.filter { !drained.contains($0.name) && $0.canRun(kind: PlannedTask.Kind.shard.rawValue, pixels: 0) }
        return ExactCapacity(workers: capable.count, smallestMemory: capable.compactMap(\.memoryBytes).min().map { Int(clamping: $0) })
    }

    struct WorkerSession {
        var id: String
        var name: String
        var threads: Int
        var credit: Int
        var lastSeen: ContinuousClock.Instant
        /// The attempts assigned to this session and not yet ended.
        var attempts: Set<Int64>
        var host: String? = nil
        /// What it may render in (announced); nil: unknown, any task is sent.
        var memoryBytes: Int64? = nil
        var capabilities: Set<String> = Set(WorkerCapability.allCases.map(\.rawValue))
        /// The CURVE `User-Id` of its key ("worker:node1"), nil without keys.
        var key: String? = nil

        /// Whether this worker can run a task of `kind` that renders `pixels` at once: it
        /// announced that kind of work order, and the task's estimated peak fits its memory.
        func canRun(kind: String, pixels: Int) -> Bool {
            if let needed = WorkerCapability.required(forTaskKind: kind), !capabilities.contains(needed.rawValue) { return false }
            guard let memoryBytes, pixels > 0 else { return true }
            guard let bytes = TaskFootprint.bytes(forPixels: pixels) else { return false }
            return Int64(bytes) <= memoryBytes
        }
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
    /// Exact shards' checkpoints, hashed and stored as blobs off the loop.
    let checkpoints: CheckpointWriter
    let outputWakeup: ZMQWakeup
    private var lastAllowListLoad = ContinuousClock.now
    /// The `User-Id`s of the keys authorised now: a key revoked while its connection is open
    /// is refused from the next reload on (the ZAP handler checks only new connections).
    private var authorisedUserIDs: Set<String>?
    /// Blob digests of stored results that tiles read (coarse passes, style targets), by path.
    var resultBlobs: [String: String] = [:]
    /// Whether stitches may be ready without a result arriving (true after a restart).
    var stitchesMayWait = true
    /// Exact tiled jobs whose shards are running, by job id.
    var gangs: [String: ExactGang] = [:]
    /// Where submissions are checked, planned and stored, off the loop.
    private let submissions = DispatchQueue(label: "stylefarm.coordinator.submissions")
    /// Replies produced off the loop (submissions), sent by the loop.
    private let deferredReplies = DeferredReplies()
    /// Operator actions posted from other threads (`perform`), run by the loop.
    let mailbox: ActionMailbox
    /// The names of drained workers (kept in the records too): they get no new tasks.
    var drained: Set<String> = []

    public var authorizedKeysDirectory: String { configuration.dataDirectory + "/authorized_keys" }

    /// The connected workers as the loop last saw them (every heartbeat interval), for readers
    /// on other threads (the HTTP API): the sessions themselves belong to the loop.
    private let workerSnapshot = Mutex<[WorkerStatus]>([])
    /// Messages and bytes in and out, dispatch latency, exchange rounds; the records time their
    /// transactions and attempts with the same instruments.
    let metrics: CoordinatorMetrics
    /// When each worker's free slots started waiting for a task (the dispatch latency).
    var slotWaits = SlotWaits()
    /// The latest preview of each running attempt, for the HTTP threads (memory only).
    let previewStore = LivePreviewStore()
    /// Finished tasks' images made small for the dashboard, decoded one at a time.
    let resultPreviews = ResultPreviewCache()

    /// The latest preview of `job`'s running task `key`, from any thread (nil: not running, or
    /// no preview yet, or its worker predates previews).
    public func livePreview(job: String, key: String) -> LivePreview? { previewStore.preview(job: job, key: key) }

    /// The latest preview of each of `job`'s running tasks, by key, from any thread.
    public func livePreviews(job: String) -> [LivePreview] { previewStore.previews(job: job) }

    /// Previews kept and dropped since start, and held now, from any thread (for `/metrics`).
    public func livePreviewCounts() -> LivePreviewCounts { previewStore.counts() }

    /// The HTTP address once its server listens (`--http`), for clients to show.
    private let httpAddress = Mutex<String?>(nil)
    public func setHTTPAddress(_ address: String) { httpAddress.withLock { $0 = address } }

    /// The status document, from any thread: the records are read directly (WAL), the workers
    /// from the loop's last snapshot.
    public func statusDocument(_ query: StatusQuery) throws -> FarmStatusDocument {
        try statusDocument(query, workers: connectedWorkers())
    }

    /// The connected workers as of the loop's last snapshot, from any thread.
    public func connectedWorkers() -> [WorkerStatus] { workerSnapshot.withLock { $0 } }

    func statusDocument(_ query: StatusQuery, workers: [WorkerStatus]) throws -> FarmStatusDocument {
        var document = try FarmStatus.document(records: records, query: query, workers: workers, dataDirectory: configuration.dataDirectory)
        document.http = httpAddress.withLock { $0 }
        return document
    }

    /// The sessions as status entries.
    func workerStatuses() -> [WorkerStatus] {
        let now = clock.now
        return workers.values.map {
            WorkerStatus(id: $0.id, threads: $0.threads, name: $0.name, host: $0.host, memoryBytes: $0.memoryBytes,
                         capabilities: $0.capabilities.sorted(), lastSeenSeconds: (now - $0.lastSeen).seconds)
        }
    }

    /// `metrics`: where the coordinator's figures go (by default nowhere; `--http` passes the
    /// Prometheus registry's factory).
    public init(configuration: Configuration, context: ZMQContext, logger: Logger, metrics: CoordinatorMetrics = CoordinatorMetrics()) throws {
        self.configuration = configuration
        self.logger = logger
        mailbox = ActionMailbox(capacity: max(1, configuration.actionQueueLimit))
        self.metrics = metrics
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory + "/jobs", withIntermediateDirectories: true)
        records = try FarmRecords(path: configuration.dataDirectory + "/farm.sqlite", budget: configuration.budget, metrics: metrics)
        blobs = try BlobStore(root: configuration.dataDirectory + "/blobs")
        var options = ZMQSocketOptions(limits: configuration.limits)
        options.routerMandatory = true
        if let keyPair = configuration.keyPair {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory + "/authorized_keys", withIntermediateDirectories: true)
            let allowList = try CurveAllowList.load(directory: URL(fileURLWithPath: configuration.dataDirectory + "/authorized_keys"))
            authorisedUserIDs = Set(allowList.names.values)
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
        checkpoints = CheckpointWriter(blobs: blobs, wakeup: outputWakeup)
        boundEndpoint = try socket.bind(configuration.endpoint)
        let requeued = try records.recoverAfterRestart()
        drained = try records.drainedWorkers()
        logger.info("coordinator listening", metadata: ["endpoint": "\(boundEndpoint)", "requeued.tasks": "\(requeued)"])
        // Jobs whose tasks were all done when the last coordinator stopped, but whose outputs
        // were not yet on disk.
        for (job, kind) in try records.finishingJobs() { finish(job, kind: kind) }
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Serves until `stop()`; then closes the socket.
    public func run() throws {
        // Close the CURVE server socket before the ZAP handler stops: libzmq admits any client
        // of a CURVE socket that has no handler.
        defer { socket.close(); zap?.stop(); outputWakeup.close(); mailbox.close() }
        let outputsWritten = try outputWakeup.makeReceiver()
        defer { outputsWritten.close() }
        while !stopRequested.load(ordering: .relaxed) {
            do throws(any Error) {
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
                for (peer, message) in deferredReplies.take() {
                    reply(message, to: peer)
                }
                performPostedActions()
                recordStoredCheckpoints()
                // Messages before liveness: a result that has arrived is recorded before a
                // silence check could make its attempt stale.
                try process(inbox)
                try housekeeping()
            } catch let error as ZMQError where error.code == .contextTerminated || error.code == .closed {
                break
            } catch {
                // Nothing a peer sends may stop the farm: log, and serve the next batch (a
                // failed transaction has been rolled back; its messages were answered or will
                // be repeated by their senders).
                logger.error("coordinator loop error; serving on", metadata: ["error": "\(error)"])
            }
        }
        // Record the results whose files are being written before leaving.
        outputs.flush()
        do { try commit([]) } catch { logger.error("could not record the last results", metadata: ["error": "\(error)"]) }
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
                metrics.received(message.kind, bytes: routed.multipart.byteCount)
            } catch {
                metrics.received(nil, bytes: routed.multipart.byteCount)
                logger.notice("refused a malformed message", metadata: ["error": "\(error)"])
                reply(.error(ErrorReply(error)), to: routed.identity)
                continue
            }
            if let role = CurveKeyRole(userID: routed.multipart.userID), !Self.allows(role, message.kind) {
                logger.notice("refused a message the key's role does not allow",
                              metadata: ["kind": "\(message.kind)", "peer.key": "\(routed.multipart.userID ?? "")"])
                reply(.error(ErrorReply(code: FarmErrorCode.forbidden.rawValue,
                                        message: "a \(role.rawValue) key may not send '\(message.kind)'", inReplyTo: "\(message.kind)")),
                      to: routed.identity)
                continue
            }
            if let userID = routed.multipart.userID, let authorised = authorisedUserIDs, !authorised.contains(userID) {
                try refuseRevoked(routed.identity, userID: userID, kind: message.kind)
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
                    try dispatch(message, from: routed.identity, key: routed.multipart.userID)
                } catch {
                    logger.notice("request failed", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
                    reply(.error(ErrorReply(code: "failed", message: "\(error)", inReplyTo: "\(message.kind)")), to: routed.identity)
                }
            }
        }
        try commit(pending)
    }

    /// What each role's keys may send: workers their own kinds (and `status`), clients theirs.
    static func allows(_ role: CurveKeyRole, _ kind: MessageKind) -> Bool {
        switch kind {
        case .hello, .ready, .progress, .result, .failure, .blobRequest, .goodbye, .exchange: role == .worker
        case .submit, .cancelJob, .watch, .setPriority, .blockWorker, .drainWorker: role == .client
        default: true
        }
    }

    /// The rare messages, each handled on its own.
    func dispatch(_ message: Message, from peer: Data, key: String? = nil) throws {
        switch message {
        case .hello(let hello):
            guard hello.protocolVersion == WireMessage.protocolVersion else {
                reply(.refused(Refused(reason: "protocol version \(hello.protocolVersion) is not \(WireMessage.protocolVersion)")), to: peer)
                return
            }
            if let reason = ServedWeights.refusal(of: hello, served: configuration.weights) {
                logger.notice("refused a worker", metadata: ["worker.name": "\(hello.workerName.prefix(64))", "reason": "\(reason)"])
                reply(.refused(Refused(reason: reason)), to: peer)
                return
            }
            // The same connection saying hello again starts a new session: whatever the old
            // one held is void.
            if let old = workers.removeValue(forKey: peer) { try endSession(old, cause: .workerLeft, reason: "said hello again") }
            // Unique across restarts and sessions: the name, then random bits (never the
            // routing id, which another socket can imitate, nor a counter, which restarts).
            let id = "\(hello.workerName)-\(Self.randomSuffix())"
            workers[peer] = WorkerSession(id: id, name: hello.workerName, threads: hello.threads, credit: 0,
                                          lastSeen: clock.now, attempts: [], host: hello.host, memoryBytes: hello.memoryBytes,
                                          capabilities: Set(hello.capabilities), key: key)
            try records.workerSeen(FarmRecords.WorkerAnnouncement(id: id, name: hello.workerName, threads: hello.threads, publicKey: key,
                                                                  host: hello.host, memoryBytes: hello.memoryBytes,
                                                                  capabilities: hello.capabilities, engineVersion: hello.engineVersion,
                                                                  weightsSHA256: (hello.weightsSHA256 ?? configuration.weights?.offer.sha256)?.hex))
            // A worker without weights is offered the coordinator's before its first `ready`.
            // Previews and checkpoints on stop only for a worker that said it knows them: an
            // older one would refuse the keys.
            reply(.welcome(Welcome(workerID: id, heartbeatIntervalMilliseconds: Int(configuration.heartbeat.seconds * 1000),
                                   liveness: configuration.liveness,
                                   weights: hello.weightsSHA256 == nil ? configuration.weights?.offer : nil,
                                   previews: hello.capabilities.contains(PreviewOffer.capability) ? configuration.previews : nil,
                                   checkpointsOnStop: hello.capabilities.contains(ShardExchange.checkpointOnStopCapability) ? true : nil)),
                  to: peer)
            logger.info("worker joined", metadata: ["worker.id": "\(id)", "worker.threads": "\(hello.threads)",
                                                    "worker.host": "\(hello.host ?? "?")", "worker.memory.mb": "\((hello.memoryBytes ?? 0) >> 20)",
                                                    "fetches.weights": "\(hello.weightsSHA256 == nil)"])
        case .blobRequest(let request):
            guard workers[peer] != nil else { return refuseUnknown(peer, kind: message.kind) }
            reply(.blob(blobReply(to: request)), to: peer)
        case .goodbye(let goodbye):
            guard let session = workers.removeValue(forKey: peer) else { return refuseUnknown(peer, kind: message.kind) }
            try endSession(session, cause: .workerLeft, reason: String(goodbye.reason.prefix(200)))
        case .submit(let submit):
            // Checking images, planning and storing a job can take a while (10,000 points):
            // never on the loop that answers heartbeats. The reply comes back through
            // `deferredReplies`.
            let (records, blobs, limits, logger, deferred, wakeup) = (records, blobs, configuration.jobLimits, logger, deferredReplies, outputWakeup)
            let capacity = exactCapacity()
            submissions.async {
                let answer: Message
                do {
                    let jobID = try JobSubmission.accept(submit, records: records, blobs: blobs, limits: limits, capacity: capacity)
                    logger.info("job submitted", metadata: ["job.id": "\(jobID)"])
                    answer = .submitted(JobSubmitted(jobID: jobID))
                } catch let refusal as JobSubmission.Refusal {
                    logger.notice("refused a job", metadata: ["reason": "\(refusal.message)"])
                    answer = .error(ErrorReply(code: FarmErrorCode.invalidJob.rawValue, message: refusal.message, inReplyTo: "submit"))
                } catch {
                    logger.error("could not store a job", metadata: ["error": "\(error)"])
                    answer = .error(ErrorReply(code: FarmErrorCode.failed.rawValue, message: "\(error)", inReplyTo: "submit"))
                }
                deferred.add(peer, answer)
                wakeup.signal()
            }
        case .status(let query):
            let document = try statusDocument(query, workers: workerStatuses())
            reply(.statusReply(StatusReply(status: try JSONValue(encoding: document))), to: peer)
        case .cancelJob(let cancel):
            dispatchAction(.cancel(job: cancel.jobID), from: peer, key: key, kind: message.kind)
        case .setPriority(let change):
            dispatchAction(.setPriority(job: change.jobID, priority: change.priority), from: peer, key: key, kind: message.kind)
        case .blockWorker(let block):
            dispatchAction(block.blocked ? .block(job: block.jobID, worker: block.worker) : .unblock(job: block.jobID, worker: block.worker),
                           from: peer, key: key, kind: message.kind)
        case .drainWorker(let drain):
            dispatchAction(drain.drain ? .drain(worker: drain.worker) : .undrain(worker: drain.worker), from: peer, key: key, kind: message.kind)
        case .ready, .heartbeat, .progress, .result, .failure:
            try commit([(peer, message)])
        case .exchange(let exchange):
            guard workers[peer] != nil else { return refuseUnknown(peer, kind: message.kind) }
            relay(exchange, from: peer)
        case .welcome, .refused, .assign, .blob, .cancel, .exchanged, .submitted, .statusReply, .watch, .watchUpdate, .cancelled, .actionDone,
             .error:
            reply(.error(ErrorReply(code: FarmErrorCode.unexpected.rawValue, message: "a coordinator does not accept '\(message.kind)' messages",
                                    inReplyTo: "\(message.kind)")), to: peer)
        }
    }

    /// A blob, or a chunk of one: the weights from their file, inputs from the blob store.
    func blobReply(to request: BlobRequest) -> BlobReply {
        if let weights = configuration.weights, request.sha256 == weights.offer.sha256 {
            let offset = request.offset ?? 0
            let length = request.length ?? Int(clamping: weights.offer.bytes)
            guard length <= configuration.limits.maxFrameBytes - 4096 else { return BlobReply(sha256: request.sha256, bytes: nil) }
            do {
                return BlobReply(sha256: request.sha256, bytes: try weights.chunk(offset: offset, length: length),
                                 offset: offset, totalBytes: weights.offer.bytes)
            } catch {
                logger.error("could not read the weights for a worker", metadata: ["error": "\(error)"])
                return BlobReply(sha256: request.sha256, bytes: nil)
            }
        }
        guard let bytes = try? blobs.read(request.sha256.hex, maxBytes: configuration.limits.maxMessageBytes) else {
            return BlobReply(sha256: request.sha256, bytes: nil)
        }
        guard let offset = request.offset, let length = request.length else { return BlobReply(sha256: request.sha256, bytes: Data(bytes)) }
        let start = Int(clamping: min(offset, Int64(bytes.count)))
        let end = start + min(length, bytes.count - start)
        return BlobReply(sha256: request.sha256, bytes: Data(bytes[start..<end]), offset: Int64(start), totalBytes: Int64(bytes.count))
    }

    /// A message under a key revoked since its connection was made: refused, and its session
    /// (if it has one) ends, handing its attempts back to the queue.
    func refuseRevoked(_ peer: Data, userID: String, kind: MessageKind) throws {
        logger.notice("refused a message under a revoked key", metadata: ["kind": "\(kind)", "peer.key": "\(userID.prefix(80))"])
        if let session = workers.removeValue(forKey: peer) { try endSession(session, cause: .workerLeft, reason: "key revoked") }
        reply(.error(ErrorReply(code: FarmErrorCode.forbidden.rawValue, message: "this key is no longer authorised", inReplyTo: "\(kind)")), to: peer)
    }

    static func randomSuffix() -> String {
        (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// A session is over (goodbye, silence, an unreachable peer, a second hello): its running
    /// attempts are lost, not failed, and go back to the queue.
    func endSession(_ session: WorkerSession, cause: LossCause, reason: String) throws {
        previewStore.ended(session.attempts)
        let outcomes = try records.workerLost(session.id, cause: cause, reason: reason)
        for case .failedPermanently(let job, let cancelled) in outcomes { jobEnded(job, cancelled: cancelled) }
        logger.notice("worker session ended", metadata: ["worker.id": "\(session.id)", "cause": "\(cause.rawValue)",
                                                         "reason": "\(reason)", "requeued": "\(outcomes.filter { $0 == .requeued }.count)"])
    }

    /// A job failed: tell the workers of its other running attempts to stop.
    func jobEnded(_ job: String, cancelled: [Int64]) {
        gangs.removeValue(forKey: job)
        stopAttempts(cancelled)
    }

    /// Sends `cancel` for each attempt to the worker that holds it.
    func stopAttempts(_ attempts: [Int64]) {
        let wanted = Set(attempts)
        guard !wanted.isEmpty else { return }
        previewStore.ended(wanted)
        for (peer, session) in workers {
            for attempt in session.attempts where wanted.contains(attempt) {
                workers[peer]?.attempts.remove(attempt)
                reply(.cancel(CancelTask(taskID: "-", attemptID: attempt)), to: peer)
            }
        }
    }

    /// A peer that never said hello, or said it to a coordinator that has since restarted (its
    /// DEALER reconnects by itself): not an error to refuse, a cue to start over.
    func refuseUnknown(_ peer: Data, kind: MessageKind) {
        reply(Self.unknownWorkerError(replyingTo: kind), to: peer)
    }

    static func unknownWorkerError(replyingTo kind: MessageKind) -> Message {
        .error(ErrorReply(code: FarmErrorCode.unknownWorker.rawValue, message: "unknown worker: send hello first", inReplyTo: "\(kind)"))
    }

    public static let unknownWorker = FarmErrorCode.unknownWorker.rawValue

    // MARK: Scheduling and liveness

    func housekeeping() throws {
        let now = clock.now
        if let zap, now - lastAllowListLoad > .seconds(2) {
            lastAllowListLoad = now
            if let allowList = try? CurveAllowList.load(directory: URL(fileURLWithPath: authorizedKeysDirectory)) {
                zap.update(allowList)
                let authorised = Set(allowList.names.values)
                authorisedUserIDs = authorised
                // Revoked keys lose their sessions now, not only at their next message.
                for (peer, session) in workers {
                    if let key = session.key, !authorised.contains(key) { try refuseRevoked(peer, userID: key, kind: .heartbeat) }
                }
            }
        }
        let limit = configuration.heartbeat * configuration.liveness
        for (peer, session) in workers where now - session.lastSeen > limit {
            workers.removeValue(forKey: peer)
            try endSession(session, cause: .workerLost, reason: "silent for \(limit)")
        }
        if now - lastHeartbeat >= configuration.heartbeat {
            lastHeartbeat = now
            workerSnapshot.withLock { $0 = workerStatuses() }
            // However an attempt ended, its preview goes within a heartbeat.
            previewStore.retain(only: Set(workers.values.flatMap(\.attempts)))
            try checkGangs()
            // A heartbeat that cannot be routed means the peer's connection is gone (a killed
            // worker): its session ends now, not a liveness period later.
            for peer in workers.keys { reply(.heartbeat(Heartbeat()), to: peer) }
            try endUnreachableSessions()
        }
    }

    /// Sessions whose peers a send found gone.
    var unreachable: Set<Data> = []

    func endUnreachableSessions() throws {
        guard !unreachable.isEmpty else { return }
        let peers = unreachable
        unreachable.removeAll()
        for peer in peers {
            guard let session = workers.removeValue(forKey: peer) else { continue }
            try endSession(session, cause: .workerLost, reason: "its connection is gone")
        }
    }

    enum SendOutcome { case sent, wouldBlock, unreachable }

    @discardableResult
    func reply(_ message: Message, to peer: Data) -> SendOutcome {
        do {
            let wire = try message.wireMessage()
            guard try socket.send(wire, to: peer, wait: false) else { return .wouldBlock }
            metrics.sent(message.kind, bytes: wire.byteCount)
            return .sent
        } catch let error as ZMQError where error.code == .peerUnreachable {
            unreachable.insert(peer)
            return .unreachable
        } catch {
            logger.info("could not send", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
            return .wouldBlock
        }
    }
}

/// Replies produced off the loop, for the loop to send (only the loop owns the socket).
final class DeferredReplies: Sendable {
    private let list = Mutex<[(peer: Data, message: Message)]>([])

    func add(_ peer: Data, _ message: Message) { list.withLock { $0.append((peer, message)) } }

    func take() -> [(peer: Data, message: Message)] {
        list.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }
}
