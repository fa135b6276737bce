import Engine
import Foundation
public import Protocol
import Synchronization
import Farm

/// Benchmark only (`stylefarm bench farm`): many simulated workers on one thread, each a real
/// DEALER socket that speaks the real protocol but "renders" nothing: it answers every
/// assignment at once with a 1×1 PNG. What is left to measure is the coordinator's own cost
/// per task — decoding, scheduling, SQLite, writing the output file — and its dispatch latency.
/// Never used by real jobs: the coordinator has no notion of it.
public final class InstantWorkerFleet: @unchecked Sendable {
    // @unchecked Sendable: the sockets and per-worker state are touched only by the thread in
    // run(); other threads read `completed` (atomic) and call stop() (atomic flag).

    public struct Figures: Sendable {
        /// Seconds from a worker's `ready` to the assignment that answered it, one per task.
        public var dispatchLatencies: [Double]
        public var firstReady: ContinuousClock.Instant?
        public var lastResult: ContinuousClock.Instant?
    }

    private struct SimulatedWorker {
        var socket: ZMQSocket
        var welcomed = false
        var readySince: ContinuousClock.Instant?
        var lastSent: ContinuousClock.Instant
    }

    private let workers: [SimulatedWorker]
    private let stopRequested = Atomic<Bool>(false)
    private let resultsSent = Atomic<Int>(0)
    private let clock = ContinuousClock()
    private let heartbeat: Duration
    private let image: Data
    /// The simulated workers load no weights; an all-zero weights digest says so.
    private static let hello = Message.hello(Hello(
        workerName: "bench", threads: 1, capabilities: WorkerCapability.allCases.map(\.rawValue) + ["bench-instant"],
        weightsSHA256: SHA256Digest(hex: String(repeating: "0", count: 64)), engineVersion: StyleFarmBuild.engineVersion))
    private let decoder = JSONDecoder()
    private var figures = Figures(dispatchLatencies: [], firstReady: nil, lastResult: nil)

    /// Connects `count` DEALER sockets to `endpoint` (each a separate ZeroMQ peer, as separate
    /// worker processes would be).
    public init(context: ZMQContext, endpoint: String, count: Int, heartbeat: Duration = .milliseconds(500)) throws {
        var workers: [SimulatedWorker] = []
        for _ in 0..<count {
            let socket = try ZMQSocket(context, type: .dealer)
            try socket.connect(endpoint)
            workers.append(SimulatedWorker(socket: socket, lastSent: ContinuousClock.now))
        }
        self.workers = workers
        self.heartbeat = heartbeat
        image = try InstantWorkerFleet.onePixelPNG()
    }

    public var completed: Int { resultsSent.load(ordering: .relaxed) }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Runs every simulated worker until `stop()`; returns what it measured. Closes the sockets.
    public func run() throws -> Figures {
        var workers = self.workers
        defer { for worker in workers { worker.socket.close() } }
        for index in workers.indices { try send(Self.hello, worker: &workers[index]) }

        let pollSet = workers.map { ($0.socket, ZMQEvents.readable) }
        while !stopRequested.load(ordering: .relaxed) {
            let events = try ZMQSocket.poll(pollSet, timeout: .milliseconds(50))
            for index in workers.indices where events[index].contains(.readable) {
                while let multipart = try workers[index].socket.receive(wait: false) {
                    guard let wire = try? WireMessage(decoding: multipart) else { continue }
                    if wire.kind == .assign, let ticket = try? decoder.decode(Ticket.self, from: wire.header) {
                        try complete(ticket, worker: &workers[index])
                    } else if let message = try? Message(decoding: multipart) {
                        try handle(message, worker: &workers[index])
                    }
                }
            }
            let now = clock.now
            for index in workers.indices where workers[index].welcomed && now - workers[index].lastSent > heartbeat {
                try send(.heartbeat(Heartbeat()), worker: &workers[index])
            }
        }
        return figures
    }

    private func handle(_ message: Message, worker: inout SimulatedWorker) throws {
        switch message {
        case .welcome:
            worker.welcomed = true
            try sendReady(&worker)
        case .error(let error) where error.code == CoordinatorService.unknownWorker:
            worker.welcomed = false
            try send(Self.hello, worker: &worker)
        default:
            break   // heartbeats, cancels of tasks already answered
        }
    }

    /// The two fields of an assignment the fleet needs. The load generator reads only these
    /// (plain JSONDecoder, no strict check) so that its own cost stays well below the
    /// coordinator's, which decodes every message strictly.
    private struct Ticket: Decodable {
        var taskID: String
        var attemptID: Int64
    }

    private func complete(_ ticket: Ticket, worker: inout SimulatedWorker) throws {
        let now = clock.now
        if let since = worker.readySince { figures.dispatchLatencies.append((now - since).seconds) }
        worker.readySince = nil
        _ = try worker.socket.send(resultMessage(ticket))
        worker.lastSent = clock.now
        resultsSent.add(1, ordering: .relaxed)
        figures.lastResult = clock.now
        try sendReady(&worker)
    }

    /// A `result` for `ticket`, from a template rather than JSONEncoder (cheap for the same
    /// reason as `Ticket`); the coordinator still decodes and checks it strictly.
    private func resultMessage(_ ticket: Ticket) -> WireMessage {
        let taskID = ticket.taskID.filter { $0.isNumber || $0.isLetter || $0 == "-" }
        let header = #"{"attemptID":\#(ticket.attemptID),"finalLosses":{"content":0,"elapsed":0,"iteration":0,"styles":[],"total":0,"tv":0},"summary":{"bench":true},"taskID":"\#(taskID)"}"#
        return WireMessage(kind: .result, header: Data(header.utf8), payloads: [image])
    }

    private func sendReady(_ worker: inout SimulatedWorker) throws {
        let now = clock.now
        worker.readySince = now
        if figures.firstReady == nil { figures.firstReady = now }
        try send(.ready(Ready(credit: 1)), worker: &worker)
    }

    private func send(_ message: Message, worker: inout SimulatedWorker) throws {
        _ = try worker.socket.send(try message.wireMessage())
        worker.lastSent = clock.now
    }

    /// A 1×1 grey PNG, made by the engine's own encoder.
    static func onePixelPNG() throws -> Data {
        Data(try ImageFile.encodePNG(RGBImage(width: 1, height: 1, fill: 0.5)))
    }
}
