public import Engine
public import Foundation
public import Logging
public import Protocol
import Synchronization
import Dispatch
import Farm

/// A farm worker: one DEALER socket owned by the thread in `run()`, which announces itself,
/// asks for work, fetches missing input blobs, runs each task on a separate thread, streams its
/// loss lines, and heartbeats all along. If the coordinator falls silent it reconnects with
/// back-off; on `stop()` it hands its task back and says goodbye. An exact shard is handed back
/// after its gang's checkpoint, within `stopCheckpointGrace` (`ShardStopCheckpoint`).
public final class WorkerService: @unchecked Sendable {
    // @unchecked Sendable: the socket and session state are touched only by the thread in run();
    // the render thread talks to it through `outbox` (a Mutex) and its task's `CancelFlag` (an Atomic).
    public struct Configuration: Sendable {
        public var endpoint: String
        public var name: String
        public var threads: Int
        /// The SHA-256 of the weights file the runner loaded; nil for a worker that fetches the
        /// coordinator's (`WeightsProvisioning`).
        public var weightsSHA256: String?
        public var limits = WireLimits.default
        public var maxBackoff: Duration = .seconds(8)
        public var security: ZMQSecurity = .none
        /// What `hello` announces: the memory it may render in, and the machine.
        public var memoryBytes: Int64? = MachineMemory.announced()
        public var host: String? = ProcessInfo.processInfo.hostName
        /// How long a worker stopped during an exact shard waits for its gang's checkpoint
        /// before it hands the shard back without one (zero: at once, as for any other task).
        public var stopCheckpointGrace: Duration = .seconds(30)

        public init(endpoint: String, name: String, threads: Int, weightsSHA256: String?) {
            self.endpoint = endpoint
            self.name = name
            self.threads = threads
            self.weightsSHA256 = weightsSHA256
        }
    }

    /// How a worker without weights gets them: where to put the coordinator's, and how to make
    /// its runner from that file once it is complete and verified.
    public struct WeightsProvisioning: Sendable {
        public var destination: String
        public var makeRunner: @Sendable (String) throws -> TaskRunner

        public init(destination: String, makeRunner: @escaping @Sendable (String) throws -> TaskRunner) {
            self.destination = destination
            self.makeRunner = makeRunner
        }
    }

    struct ActiveTask {
        var assignment: TaskAssignment
        var order: WorkOrder
        var started = false
        /// This task's own cancel flag: a new task never clears an old one's.
        let cancel: CancelFlag
        /// An exact shard's checkpoint before a stop (unused by other tasks).
        let stopCheckpoint = ShardStopCheckpoint()
    }

    /// A render thread's cancel flag, one per task.
    final class CancelFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func set() { flag.store(true, ordering: .relaxed) }
        var isSet: Bool { flag.load(ordering: .relaxed) }
    }

    /// What a render thread hands the socket's thread: a message about its attempt, and
    /// whether it is the last (the task is over).
    struct Outgoing {
        var attemptID: Int64
        var message: Message
        var finished: Bool
    }

    public let configuration: Configuration
    /// Nil until the weights are there (fetched from the coordinator, then loaded off this thread).
    private var runner: TaskRunner?
    private let provisioning: WeightsProvisioning?
    /// The weights being fetched; kept across sessions so that a reconnect resumes it.
    private var download: WeightsDownload?
    /// A runner made from freshly fetched weights by a loading thread, for the socket's thread.
    private let loadedRunner = Mutex<Result<TaskRunner, any Error>?>(nil)
    private var loading = false
    private var weightsDigest: String?
    let context: ZMQContext
    let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let outbox = Mutex<[Outgoing]>([])
    /// The coordinator's answers to an exact shard's exchange rounds, for the render thread.
    let exchangeReplies = Mutex<[ShardExchangeReply]>([])
    /// Signalled when an exchange reply arrives, so the waiting render thread wakes at once.
    let exchangeArrived = DispatchSemaphore(value: 0)
    /// Wakes the socket's thread when a render thread queues a message (no polling interval
    /// between an exact shard's round and its sending). Made by `run()` for its context.
    private let outboxWakeup = Mutex<ZMQWakeup?>(nil)
    private let renderThreads = DispatchGroup()
    let clock = ContinuousClock()
    var active: ActiveTask?
    /// Attempts assigned in this session (what this session may report on), and the highest.
    private var sessionAttempts: Set<Int64> = []
    private var lastAssignment: Int64?
    /// What this session's coordinator asked of previews in its welcome; nil: it takes none.
    private var previewOffer: PreviewOffer?
    /// Whether this session's coordinator takes a shard's request for a checkpoint on stop.
    var checkpointsOnStop = false

    /// `runner` nil: the worker fetches the coordinator's weights first, as `provisioning` says.
    public init(configuration: Configuration, runner: TaskRunner?, provisioning: WeightsProvisioning? = nil,
                context: ZMQContext, logger: Logger) {
        self.configuration = configuration
        self.runner = runner
        self.provisioning = provisioning
        self.weightsDigest = runner == nil ? nil : configuration.weightsSHA256
        self.context = context
        self.logger = logger
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    public func run() throws {
        // Never leave with a render thread still running: it uses this object's buffers.
        defer {
            active?.cancel.set()
            renderThreads.wait()
        }
        var backoff = Duration.milliseconds(250)
        while !stopRequested.load(ordering: .relaxed) {
            let served = try session()
            if stopRequested.load(ordering: .relaxed) { break }
            if served { backoff = .milliseconds(250) }
            logger.notice("coordinator unreachable; reconnecting", metadata: ["after": "\(backoff)"])
            Thread.sleep(forTimeInterval: backoff.seconds)
            backoff = min(backoff * 2, configuration.maxBackoff)
        }
    }

    /// One connection: returns when the coordinator is lost (true if it had welcomed us) or on stop.
    private func session() throws -> Bool {
        // A task of the last session was cancelled when it ended; its thread must be gone
        // before this session takes a task (one render at a time, on this worker's threads).
        if let leftover = active {
            leftover.cancel.set()
            renderThreads.wait()
            active = nil
        }
        _ = outbox.withLock { $0.removeAll() }
        sessionAttempts = []
        lastAssignment = nil
        previewOffer = nil
        checkpointsOnStop = false
        let socket = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions(limits: configuration.limits) {
            $0.security = configuration.security
        })
        defer { socket.close() }
        let wakeup = try ZMQWakeup(context: context)
        let outboxSignals = try wakeup.makeReceiver()
        outboxWakeup.withLock { $0 = wakeup }
        defer {
            outboxWakeup.withLock { $0 = nil }
            outboxSignals.close()
            wakeup.close()
        }
        try socket.connect(configuration.endpoint)
        var digest: SHA256Digest?
        if let hex = weightsDigest {
            guard let parsed = SHA256Digest(hex: hex) else { throw EngineError(.weightsCorrupt, "weights hash '\(hex)' is not a sha256") }
            digest = parsed
        }
        send(.hello(Hello(workerName: configuration.name, threads: configuration.threads,
                          capabilities: WorkerCapability.allCases.map(\.rawValue) + [PreviewOffer.capability, ShardExchange.checkpointOnStopCapability],
                          weightsSHA256: digest,
                          engineVersion: StyleFarmBuild.engineVersion, zmqVersion: ZeroMQVersion.runtime,
                          memoryBytes: configuration.memoryBytes, host: configuration.host)), on: socket)

        var heartbeat = Duration.milliseconds(500)
        var liveness = 6
        var welcomed = false
        var lastHeard = clock.now
        var lastSent = clock.now
        // Set when a stop finds a running shard: until then its gang may checkpoint first.
        var stopDeadline: ContinuousClock.Instant?
        while true {
            if stopRequested.load(ordering: .relaxed) {
                if stopDeadline == nil { stopDeadline = askForStopCheckpoint() }
                guard let deadline = stopDeadline, active != nil else { break }
                guard clock.now < deadline else {
                    logger.notice("no checkpoint of the shard's gang within the grace period; handing the shard back without one",
                                  metadata: ["grace": "\(configuration.stopCheckpointGrace)"])
                    break
                }
            }
            // An exact shard waits on every exchange round: poll often while one runs.
            let ready = try ZMQSocket.poll([(socket, .readable), (outboxSignals, .readable)], timeout: .milliseconds(50))
            if ready[1].contains(.readable) { try ZMQWakeup.drain(outboxSignals) }
            if ready[0].contains(.readable) {
                while let received = try socket.receiveMessage(limits: configuration.limits, wait: false) {
                    lastHeard = clock.now
                    switch received {
                    case .failure(let error):
                        logger.notice("malformed message from the coordinator", metadata: ["error": "\(error)"])
                    case .success(let message):
                        switch message {
                        case .welcome(let welcome):
                            welcomed = true
                            heartbeat = .milliseconds(max(50, welcome.heartbeatIntervalMilliseconds))
                            liveness = max(2, welcome.liveness)
                            previewOffer = welcome.previews
                            checkpointsOnStop = welcome.checkpointsOnStop == true
                            logger.info("joined the farm", metadata: ["worker.id": "\(welcome.workerID)"])
                            if runner == nil, !loading { try fetchWeights(welcome.weights, on: socket) }
                            sendReady(on: socket)
                        case .refused(let refused):
                            throw EngineError(.invalidArgument, "the coordinator refused this worker: \(refused.reason)")
                        case .assign(let assignment):
                            try accept(assignment, on: socket)
                        case .blob(let reply) where download.map({ reply.sha256 == $0.offer.sha256 }) ?? false:
                            try receivedWeights(reply, on: socket)
                        case .blob(let reply):
                            receivedBlob(reply, on: socket)
                        case .exchanged(let reply):
                            exchangeReplies.withLock { $0.append(reply) }
                            exchangeArrived.signal()
                        case .cancel(let cancel):
                            if active?.assignment.attemptID == cancel.attemptID { active?.cancel.set() }
                        case .heartbeat:
                            break
                        case .error(let error) where error.code == "unknown-worker":
                            // The coordinator restarted and our socket reconnected on its own: the
                            // task we hold belongs to a lease it has already taken back.
                            logger.notice("the coordinator does not know this worker any more; joining again")
                            active?.cancel.set()
                            return welcomed
                        case .error(let error):
                            logger.notice("the coordinator reported an error", metadata: ["code": "\(error.code)", "message": "\(error.message)"])
                        default:
                            logger.info("ignored a message", metadata: ["kind": "\(message.kind)"])
                        }
                    }
                }
            }
            if let result = loadedRunner.withLock({ slot -> Result<TaskRunner, any Error>? in defer { slot = nil }; return slot }) {
                loading = false
                runner = try result.get()
                weightsDigest = download?.offer.sha256.hex
                download = nil
                logger.notice("weights loaded; ready for tasks")
                if welcomed { sendReady(on: socket) }
            }
            startTaskIfReady(on: socket)
            for outgoing in outbox.withLock({ queue -> [Outgoing] in defer { queue.removeAll() }; return queue }) {
                // Only this session's attempts: the coordinator has already taken back any other.
                guard sessionAttempts.contains(outgoing.attemptID) else { continue }
                send(outgoing.message, on: socket)
                lastSent = clock.now
                if outgoing.finished, active?.assignment.attemptID == outgoing.attemptID {
                    active = nil
                    sendReady(on: socket)
                }
            }
            if clock.now - lastSent >= heartbeat {
                send(.heartbeat(Heartbeat()), on: socket)
                lastSent = clock.now
            }
            if clock.now - lastHeard > heartbeat * liveness {
                // The coordinator restarted or died: whatever we were doing for it is void.
                active?.cancel.set()
                return welcomed
            }
        }
        if let active {
            active.cancel.set()
            send(.failure(TaskFailure(taskID: active.assignment.taskID, attemptID: active.assignment.attemptID,
                                      reason: "worker shutting down", retryable: true, handBack: true)), on: socket)
        }
        send(.goodbye(Goodbye(reason: "stopped")), on: socket)
        return welcomed
    }

    /// Free slots, the attempt held and the last assignment seen: idempotent, so the
    /// coordinator never counts a repeated `ready` as a second slot.
    private func sendReady(on socket: ZMQSocket) {
        guard runner != nil else { return }   // no task before the weights are loaded
        guard !stopRequested.load(ordering: .relaxed) else { return }   // waiting for a shard's checkpoint: no new task
        send(.ready(Ready(credit: active == nil ? 1 : 0, holding: active.map { [$0.assignment.attemptID] } ?? [],
                          lastAssignment: lastAssignment ?? 0)), on: socket)
    }

    private func accept(_ assignment: TaskAssignment, on socket: ZMQSocket) throws {
        sessionAttempts.insert(assignment.attemptID)
        lastAssignment = max(lastAssignment ?? 0, assignment.attemptID)
        guard active == nil, let runner else {
            // Not a failure of the task: handed back, charged to nothing it caused.
            send(.failure(TaskFailure(taskID: assignment.taskID, attemptID: assignment.attemptID,
                                      reason: runner == nil ? "worker has no weights yet" : "worker is busy", retryable: true, handBack: true)), on: socket)
            return
        }
        let order: WorkOrder
        do {
            order = try WorkOrder.decode(try assignment.settings.jsonData())
        } catch {
            send(.failure(TaskFailure(taskID: assignment.taskID, attemptID: assignment.attemptID,
                                      reason: "unreadable task: \(error)", retryable: false)), on: socket)
            sendReady(on: socket)
            return
        }
        active = ActiveTask(assignment: assignment, order: order, cancel: CancelFlag())
        for sha in runner.missingBlobs(for: order) {
            if let digest = SHA256Digest(hex: sha) { send(.blobRequest(BlobRequest(sha256: digest)), on: socket) }
        }
    }

    /// A blob the coordinator sent; a blob it does not have fails the attempt that needs it
    /// (it cannot start anywhere), instead of holding the lease for ever.
    private func receivedBlob(_ reply: BlobReply, on socket: ZMQSocket) {
        guard let runner else { return }
        if reply.found {
            do {
                try runner.blobs.store([UInt8](reply.bytes), expected: reply.sha256.hex)
                return
            } catch {
                logger.notice("a blob arrived damaged", metadata: ["blob": "\(reply.sha256.hex)", "error": "\(error)"])
            }
        }
        guard let task = active, !task.started, runner.missingBlobs(for: task.order).contains(reply.sha256.hex) else { return }
        active = nil
        send(.failure(TaskFailure(taskID: task.assignment.taskID, attemptID: task.assignment.attemptID,
                                  reason: "input blob \(reply.sha256.hex) could not be fetched from the coordinator", retryable: false)), on: socket)
        sendReady(on: socket)
    }

    private func startTaskIfReady(on socket: ZMQSocket) {
        guard let runner, let task = active, !task.started, runner.missingBlobs(for: task.order).isEmpty else { return }
        active?.started = true
        exchangeReplies.withLock { $0.removeAll() }
        let assignment = task.assignment
        let order = task.order
        let cancel = task.cancel
        let stopCheckpoint = task.stopCheckpoint
        let previews = previewOffer.map(PreviewSettings.init)
        logger.info("task started", metadata: ["task.id": "\(assignment.taskID)", "attempt.id": "\(assignment.attemptID)"])
        renderThreads.enter()
        let thread = Thread { [self] in
            defer { renderThreads.leave() }
            let message: Message
            do {
                let output = try runner.perform(order, previews: previews, isCancelled: { cancel.isSet },
                                                checkpointRequested: { stopCheckpoint.takeRequest() },
                                                exchange: { [self] round, bytes in
                                                    try exchange(round, bytes, for: assignment, cancel: cancel, stop: stopCheckpoint)
                                                },
                                                onProgress: { batch in
                    let lines = batch.records.map(Self.lossLine)
                    let progress = Message.progress(TaskProgress(taskID: assignment.taskID, attemptID: assignment.attemptID, lines: lines,
                                                                 preview: batch.preview,
                                                                 iterations: batch.preview == nil ? nil : batch.records.last?.iterations))
                    enqueue(Outgoing(attemptID: assignment.attemptID, message: progress, finished: false))
                })
                message = .result(TaskResult(taskID: assignment.taskID, attemptID: assignment.attemptID,
                                             finalLosses: Self.lossLine(output.final), summary: output.summary,
                                             image: Data(output.payload)))
            } catch let error as EngineError where error.code == .cancelled {
                // A shard stopped after its gang's checkpoint says so (its error's message).
                message = .failure(TaskFailure(taskID: assignment.taskID, attemptID: assignment.attemptID,
                                               reason: stopCheckpoint.isStopping ? error.message : "cancelled",
                                               retryable: true, handBack: true))
            } catch {
                // Bad input fails the same way on every worker: not worth retrying.
                let retryable = (error as? EngineError).map { $0.code != .invalidArgument && $0.code != .invalidImage } ?? true
                message = .failure(TaskFailure(taskID: assignment.taskID, attemptID: assignment.attemptID, reason: "\(error)", retryable: retryable))
            }
            enqueue(Outgoing(attemptID: assignment.attemptID, message: message, finished: true))
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    // MARK: Weights from the coordinator

    /// Starts (or resumes) fetching the weights the coordinator offered in `welcome`.
    private func fetchWeights(_ offer: WeightsOffer?, on socket: ZMQSocket) throws {
        guard let provisioning else { throw EngineError(.weightsMissing, "this worker has no weights and no place to fetch them to") }
        guard let offer else {
            throw EngineError(.weightsMissing, "the coordinator offers no weights: run `stylefarm weights fetch` on the head (or give this node its own)")
        }
        if download?.offer != offer { download = try WeightsDownload(offer: offer, destination: provisioning.destination) }
        if let download {
            logger.notice("fetching the weights from the coordinator", metadata: ["bytes": "\(offer.bytes)", "resuming.at": "\(download.received)",
                                                                                "weights.path": "\(provisioning.destination)"])
        }
        try continueWeights(on: socket)
    }

    private func receivedWeights(_ reply: BlobReply, on socket: ZMQSocket) throws {
        guard let download, !loading else { return }
        guard reply.found else { throw EngineError(.weightsMissing, "the coordinator no longer has the weights it offered (\(reply.sha256.hex))") }
        let before = download.received * 4 / max(1, download.offer.bytes)
        guard try download.append(reply) else { return }
        if download.received * 4 / max(1, download.offer.bytes) > before {
            logger.info("fetching the weights", metadata: ["received": "\(download.received)", "of": "\(download.offer.bytes)"])
        }
        try continueWeights(on: socket)
    }

    /// Asks for the next chunk, or, once all are in, verifies them and loads the network on a
    /// thread of its own (a few seconds in which heartbeats must go on).
    private func continueWeights(on socket: ZMQSocket) throws {
        guard let download, let provisioning else { return }
        guard download.isComplete else {
            send(.blobRequest(download.nextRequest), on: socket)
            return
        }
        try download.finish()
        loading = true
        renderThreads.enter()
        let thread = Thread { [self] in
            defer { renderThreads.leave() }
            let result = Result { try provisioning.makeRunner(provisioning.destination) }
            loadedRunner.withLock { $0 = result }
            outboxWakeup.withLock { $0 }?.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues a render thread's message for the socket's thread and wakes it.
    func enqueue(_ outgoing: Outgoing) {
        outbox.withLock { $0.append(outgoing) }
        outboxWakeup.withLock { $0 }?.signal()
    }

    static func lossLine(_ p: RenderProgress) -> LossLine {
        LossLine(iteration: p.iteration, total: p.losses.total, content: p.losses.content, styles: p.losses.styles,
                 tv: p.losses.tv, elapsed: p.elapsed)
    }

    private func send(_ message: Message, on socket: ZMQSocket) {
        do {
            try socket.send(try message.wireMessage(), wait: false)
        } catch {
            logger.info("could not send", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
        }
    }
}
