public import Coordinator
import Farm
import Prometheus
import Synchronization

/// `/metrics` in Prometheus's text format (`FarmMetricCatalogue` lists every metric). Two
/// sources: the farm's state (jobs, tasks, attempts, lost attempts by cause, workers, iterations
/// per second) is read from the records and the loop's worker snapshot at each scrape, so that
/// it agrees with the database; what the coordinator measures as it runs (messages, bytes,
/// dispatch latency, attempt durations, SQLite transactions, exchange rounds) it records through
/// `coordinator`, the swift-metrics instruments made on this registry.
public final class FarmMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The instruments to hand to `CoordinatorService(…, metrics:)`.
    public let coordinator: CoordinatorMetrics
    /// Per-worker iterations-per-second gauges by worker name, so that a worker gone is removed.
    private let workerGauges = Mutex<[String: Gauge]>([:])

    /// Worker names labelled at most (the farm total always counts every worker): a bound on
    /// the series a farm of many nodes makes.
    static let maximumWorkerSeries = 100

    public init() {
        coordinator = CoordinatorMetrics(factory: FarmMetricsFactory(registry: registry))
    }

    /// The exposition text, refreshed from the records and the loop's snapshot.
    public func scrape(_ service: CoordinatorService) throws -> String {
        let jobs = try service.records.jobCounts()
        let (tasks, attempts) = try service.records.farmCounts()
        for state in JobState.allCases {
            gauge("stylefarm_jobs", [("state", state.rawValue)]).set(Double(jobs[state.rawValue] ?? 0))
        }
        for state in TaskState.allCases {
            gauge("stylefarm_tasks", [("state", state.rawValue)]).set(Double(tasks[state.rawValue] ?? 0))
        }
        for outcome in AttemptOutcome.allCases {
            gauge("stylefarm_attempts", [("outcome", outcome.rawValue)]).set(Double(attempts[outcome.rawValue] ?? 0))
        }
        for (cause, count) in try service.records.lostAttemptsByCause() {
            gauge("stylefarm_attempts_lost", [("cause", cause.rawValue)]).set(Double(count))
        }
        let workers = service.connectedWorkers()
        gauge("stylefarm_workers_connected").set(Double(workers.count))
        try setIterationsPerSecond(workers, running: service.records.runningAttemptsByWorker())
        return registry.emitToString()
    }

    /// Iterations per second of each connected worker's running attempt (latest iteration over
    /// the seconds since it started), summed by worker name, and the farm's total.
    func setIterationsPerSecond(_ workers: [WorkerStatus], running: [String: (jobID: String, key: String, iteration: Int, elapsed: Double)]) {
        var byName: [String: Double] = [:]
        var total = 0.0
        for worker in workers {
            guard let attempt = running[worker.id], attempt.elapsed > 0, attempt.iteration > 0 else { continue }
            let rate = Double(attempt.iteration) / attempt.elapsed
            guard rate.isFinite else { continue }
            total += rate
            byName[String((worker.name ?? worker.id).prefix(64)), default: 0] += rate
        }
        gauge("stylefarm_iterations_per_second").set(total)
        // Every connected worker has a series (0 when idle), up to the bound; gone workers lose theirs.
        for worker in workers { byName[String((worker.name ?? worker.id).prefix(64)), default: 0] += 0 }
        let shown = byName.keys.sorted().prefix(Self.maximumWorkerSeries)
        workerGauges.withLock { gauges in
            for (name, gauge) in gauges where byName[name] == nil || !shown.contains(name) {
                registry.unregisterGauge(gauge)
                gauges[name] = nil
            }
            for name in shown {
                let gauge = gauges[name] ?? self.gauge("stylefarm_worker_iterations_per_second", [("worker", name)])
                gauges[name] = gauge
                gauge.set(byName[name] ?? 0)
            }
        }
    }

    private func gauge(_ name: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: FarmMetricCatalogue.descriptor(name), labels: labels)
    }
}
