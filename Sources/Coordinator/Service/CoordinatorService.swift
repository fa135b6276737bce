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
    private var workers: [Data: WorkerSession] = [:]
    private var lastHeartbeat = ContinuousClock.now
    private let clock = ContinuousClock()
    private let zap: ZAPHandler?
    private var lastAllowListLoad = ContinuousClock.now

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
        boundEndpoint = try socket.bind(configuration.endpoint)
        let requeued = try records.recoverAfterRestart()
        logger.info("coordinator listening", metadata: ["endpoint": "\(boundEndpoint)", "requeued.tasks": "\(requeued)"])
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Serves until `stop()`; then closes the socket.
    public func run() throws {
        // Close the CURVE server socket before the ZAP handler stops: libzmq admits any client
        // of a CURVE socket that has no handler.
        defer { socket.close(); zap?.stop() }
        while !stopRequested.load(ordering: .relaxed) {
            let events = try socket.poll(.readable, timeout: .milliseconds(100))
            if events.contains(.readable) {
                // Drain what is queued without blocking, then do the periodic work.
                while let routed = try socket.receiveRouted(limits: configuration.limits, wait: false) {
                    handle(routed)
                }
            }
            try housekeeping()
        }
        logger.info("coordinator stopped")
    }

    // MARK: Messages

    func handle(_ routed: RoutedMessage) {
        let message: Message
        do {
            message = try routed.decode(limits: configuration.limits)
        } catch {
            logger.notice("refused a malformed message", metadata: ["error": "\(error)"])
            reply(.error(ErrorReply(error)), to: routed.identity)
            return
        }
        do {
            try dispatch(message, from: routed.identity)
        } catch {
            logger.notice("request failed", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
            reply(.error(ErrorReply(code: "failed", message: "\(error)", inReplyTo: "\(message.kind)")), to: routed.identity)
        }
    }

    func dispatch(_ message: Message, from peer: Data) throws {
        if workers[peer] != nil { workers[peer]?.lastSeen = clock.now }
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
        case .ready(let ready):
            guard workers[peer] != nil else { return refuseUnknown(peer) }
            workers[peer]?.credit = max(0, min(ready.credit, 64))
        case .heartbeat:
            if workers[peer] == nil { return refuseUnknown(peer) }
        case .progress(let progress):
            guard workers[peer] != nil else { return refuseUnknown(peer) }
            if try records.recordProgress(attempt: progress.attemptID, lines: progress.lines) == .stale {
                logger.info("dropped progress of a stale attempt", metadata: ["attempt.id": "\(progress.attemptID)"])
            }
        case .result(let result):
            guard workers[peer] != nil else { return refuseUnknown(peer) }
            workers[peer]?.attempts.remove(result.attemptID)
            try accept(result)
        case .failure(let failure):
            guard workers[peer] != nil else { return refuseUnknown(peer) }
            workers[peer]?.attempts.remove(failure.attemptID)
            let outcome = try records.failAttempt(failure.attemptID, reason: failure.reason, retryable: failure.retryable)
            logger.notice("task failed", metadata: ["attempt.id": "\(failure.attemptID)", "reason": "\(failure.reason)", "outcome": "\(outcome)"])
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
            guard try records.cancelJob(cancel.jobID) else {
                throw EngineError(.invalidArgument, "job \(cancel.jobID) is unknown or already finished")
            }
            reply(.cancelled(JobCancelled(jobID: cancel.jobID)), to: peer)
        case .welcome, .refused, .assign, .blob, .cancel, .submitted, .statusReply, .watch, .watchUpdate, .cancelled, .error:
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

    func accept(_ result: TaskResult) throws {
        guard let lease = try records.lease(ofAttempt: result.attemptID) else {
            logger.notice("dropped a result for an unknown attempt", metadata: ["attempt.id": "\(result.attemptID)"])
            return
        }
        let directory = configuration.dataDirectory + "/jobs/" + lease.jobID
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + lease.outputName
        let summary = try result.summary.jsonData()
        // Write the image first, then record: a crash in between leaves a file the retry overwrites.
        if try records.isCurrentAttempt(result.attemptID) {
            try result.image.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        switch try records.completeAttempt(result.attemptID, result: summary, outputPath: path) {
        case .accepted:
            logger.info("task done", metadata: ["job.id": "\(lease.jobID)", "task.key": "\(lease.key)"])
            if try records.job(lease.jobID)?.state == "succeeded" {
                do {
                    try JobOutputs.write(jobID: lease.jobID, records: records, directory: directory, blobRoot: blobs.root)
                } catch {
                    logger.error("could not write the job's outputs", metadata: ["job.id": "\(lease.jobID)", "error": "\(error)"])
                }
            }
        case .stale:
            logger.notice("dropped a stale or duplicate result", metadata: ["attempt.id": "\(result.attemptID)"])
        }
    }

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
            for peer in workers.keys { reply(.heartbeat(Heartbeat()), to: peer) }
        }
        try assignTasks()
    }

    func assignTasks() throws {
        for (peer, session) in workers where session.credit > 0 {
            var excluded: Set<String> = []
            for job in try records.jobs() where job.state == "running" || job.state == "queued" {
                if try records.failures(ofWorker: session.id, inJob: job.id) >= configuration.failuresBeforeBlocking {
                    excluded.insert(job.id)
                }
            }
            guard let lease = try records.leaseNextTask(to: session.id, excludingJobs: excluded) else { return }
            var request = lease.request
            if lease.kind == .render, let calibration = try records.result(ofTask: "calibrate", inJob: lease.jobID) {
                let summary = try JSONDecoder().decode(RenderSummary.self, from: calibration)
                request.sigmas = try Balancing.sigmas(relativeImprovements: summary.relativeImprovement)
            }
            var inputs: [String: SHA256Digest] = [:]
            for (i, path) in ([request.contentPath] + request.stylePaths).enumerated() where path.hasPrefix("blob:") {
                inputs[i == 0 ? "content" : "style\(i)"] = SHA256Digest(hex: String(path.dropFirst(5)))
            }
            let assignment = TaskAssignment(taskID: String(lease.taskID), attemptID: lease.attemptID, jobID: lease.jobID,
                                            settings: try JSONValue(encoding: request), inputs: inputs)
            if reply(.assign(assignment), to: peer) {
                workers[peer]?.credit -= 1
                workers[peer]?.attempts.insert(lease.attemptID)
                logger.info("task assigned", metadata: ["task.key": "\(lease.key)", "worker.id": "\(session.id)",
                                                        "attempt.id": "\(lease.attemptID)"])
            } else {
                _ = try records.failAttempt(lease.attemptID, reason: "worker unreachable", retryable: true, outcome: "lost")
            }
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
