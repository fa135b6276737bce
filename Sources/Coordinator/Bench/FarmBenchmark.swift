import Engine
import Farm
import Foundation
public import Logging
import Protocol

/// `stylefarm bench farm`: the coordinator's own overhead. A real coordinator (its ROUTER
/// socket on loopback TCP, its SQLite database in WAL mode, its output files) serves one job of
/// N tasks to W simulated workers that complete every task the moment they get it
/// (`InstantWorkerFleet`). Reports tasks per second and the latency from a worker's `ready` to
/// its next assignment.
public struct FarmBenchmark: Sendable {
    public var workers: Int
    public var tasks: Int
    /// Where the coordinator keeps its database and outputs; a fresh directory is best.
    public var dataDirectory: String
    /// Where the coordinator's figures go (`--metrics`: a Prometheus registry; else nowhere).
    public var metrics = CoordinatorMetrics()

    /// Called once the coordinator serves and its job exists, before the workers start; what it
    /// returns is called when the job has finished (`stylefarm bench farm --http --browser`
    /// opens the dashboard there, to measure what watching costs the loop).
    public var whileServing: (@Sendable (CoordinatorService, _ jobID: String) throws -> @Sendable () -> Void)?

    public init(workers: Int, tasks: Int, dataDirectory: String) {
        self.workers = workers
        self.tasks = tasks
        self.dataDirectory = dataDirectory
    }

    public struct Figures: Sendable, Codable {
        public var benchmark = "farm"
        public var workers: Int
        public var tasks: Int
        public var seconds: Double
        public var tasksPerSecond: Double
        public var dispatchLatencyMsP50: Double
        public var dispatchLatencyMsP99: Double
        public var dispatchLatencyMsMax: Double
        /// CPU time of the coordinator's thread per task (decoding, scheduling, SQLite, files).
        public var coordinatorCpuMicrosecondsPerTask: Double
        public var attemptsRecorded: Int
        public var peakRssMb: Double
        /// What watched the run (`--http`, `--browser`); nil when nothing did.
        public var watchedBy: String?
        /// Whether the coordinator recorded its figures (`--metrics`).
        public var metrics = false
    }

    public func run(logger: Logger) throws -> Figures {
        guard workers >= 1, workers <= 10_000 else { throw EngineError(.invalidArgument, "--workers must be 1–10000; got \(workers)") }
        guard tasks >= 1, tasks <= 10_000_000 else { throw EngineError(.invalidArgument, "--tasks must be 1–10000000; got \(tasks)") }
        let context = try ZMQContext()
        defer { context.shutdown() }
        let service = try CoordinatorService(
            configuration: .init(endpoint: "tcp://127.0.0.1:*", dataDirectory: dataDirectory), context: context, logger: logger,
            metrics: metrics)
        let jobID = try service.records.createJob(kind: "bench", spec: Data("{}".utf8), priority: 0, tasks: plannedTasks())

        let coordinatorCPU = HandOff<Double>()
        let serviceDone = DispatchSemaphore(value: 0)
        let serviceThread = Thread {
            let start = ThreadCPUClock.now()
            do { try service.run() } catch { logger.error("coordinator stopped", metadata: ["error": "\(error)"]) }
            coordinatorCPU.set(ThreadCPUClock.now() - start)
            serviceDone.signal()
        }
        serviceThread.stackSize = 8 << 20
        serviceThread.start()

        let stopWatching = try whileServing?(service, jobID)
        defer { stopWatching?() }

        // The simulated workers get their own context (and so their own I/O thread), as
        // separate processes would.
        let fleetContext = try ZMQContext()
        defer { fleetContext.shutdown() }
        let fleet = try InstantWorkerFleet(context: fleetContext, endpoint: service.boundEndpoint, count: workers)
        let fleetDone = DispatchSemaphore(value: 0)
        let fleetOutcome = HandOff<Result<InstantWorkerFleet.Figures, any Error>>()
        let fleetThread = Thread {
            fleetOutcome.set(Result { try fleet.run() })
            fleetDone.signal()
        }
        fleetThread.stackSize = 8 << 20
        fleetThread.start()

        // The job ends when the coordinator has recorded every result: wait for that in the
        // database, as a client would see it.
        var finished: ContinuousClock.Instant?
        while finished == nil {
            Thread.sleep(forTimeInterval: 0.002)
            if fleet.completed >= tasks, let state = try service.records.job(jobID)?.state, state.isFinal {
                guard state == .succeeded else { throw EngineError(.failed, "the benchmark job ended '\(state)'") }
                finished = ContinuousClock.now
            }
        }
        fleet.stop()
        fleetDone.wait()
        service.stop()
        serviceDone.wait()
        guard let outcome = fleetOutcome.get() else { throw EngineError(.failed, "the simulated workers did not report") }
        let measured = try outcome.get()

        let start = measured.firstReady ?? finished!
        let seconds = (finished! - start).seconds
        let latencies = measured.dispatchLatencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)] * 1000
        }
        return Figures(workers: workers, tasks: tasks, seconds: seconds, tasksPerSecond: Double(tasks) / seconds,
                       dispatchLatencyMsP50: percentile(0.5), dispatchLatencyMsP99: percentile(0.99),
                       dispatchLatencyMsMax: (latencies.last ?? 0) * 1000,
                       coordinatorCpuMicrosecondsPerTask: (coordinatorCPU.get() ?? 0) * 1e6 / Double(tasks),
                       attemptsRecorded: try service.records.counts()["attempt"] ?? 0,
                       peakRssMb: ProcessMemory.peakResidentMegabytes(), metrics: metrics.isEnabled)
    }

    /// N independent tasks; their requests are never rendered.
    func plannedTasks() -> [PlannedTask] {
        (0..<tasks).map { i in
            PlannedTask(key: "bench-\(i)", kind: .render, parameters: [], request: RenderRequest(contentPath: "bench", stylePaths: []),
                        dependsOn: [], outputName: "bench-\(i).png")
        }
    }
}
