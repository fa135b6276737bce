public import Coordinator
import Farm
import Prometheus
import Synchronization

/// `/metrics` in Prometheus's text format. The farm's state (jobs and tasks by state, attempts
/// by outcome, workers connected) is read from the records at each scrape, so that the figures
/// agree with the database; messages received are counters the loop adds to once per batch.
public final class FarmMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let service: CoordinatorService
    /// What the message counters last showed (counters only go up: each scrape adds the difference).
    private let counted = Mutex<[String: Int]>([:])

    public init(service: CoordinatorService) {
        self.service = service
    }

    /// The exposition text, refreshed from the records.
    public func scrape() throws -> String {
        let jobs = try service.records.jobCounts()
        let (tasks, attempts) = try service.records.farmCounts()
        for state in JobState.allCases {
            registry.makeGauge(name: "stylefarm_jobs", labels: [("state", state.rawValue)], help: "Jobs by state.")
                .set(Double(jobs[state.rawValue] ?? 0))
        }
        for state in TaskState.allCases {
            registry.makeGauge(name: "stylefarm_tasks", labels: [("state", state.rawValue)], help: "Tasks by state.")
                .set(Double(tasks[state.rawValue] ?? 0))
        }
        for outcome in AttemptOutcome.allCases {
            registry.makeGauge(name: "stylefarm_attempts", labels: [("outcome", outcome.rawValue)], help: "Attempts by outcome.")
                .set(Double(attempts[outcome.rawValue] ?? 0))
        }
        registry.makeGauge(name: "stylefarm_workers_connected", help: "Workers with a session.")
            .set(Double(service.connectedWorkers().count))
        let now = service.messageCounts()
        counted.withLock { last in
            for (kind, count) in now where count > (last[kind] ?? 0) {
                registry.makeCounter(name: "stylefarm_messages_received_total", labels: [("kind", kind)],
                                     help: "Messages the coordinator received, by kind.")
                    .increment(by: Int64(count - (last[kind] ?? 0)))
            }
            last = now
        }
        return registry.emitToString()
    }
}
