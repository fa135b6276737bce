import Coordinator
import Prometheus

/// Every metric `/metrics` exports: its name, type and help text, and for histograms their
/// buckets. The one list the exporter (`FarmMetricsFactory`, `FarmMetrics`) uses; the README's
/// table follows it, and scripts/deploy-check/metrics_rules.py reads it to check the Grafana
/// dashboard's expressions and scrapes.
public enum FarmMetricCatalogue {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public struct Entry: Sendable {
        public var name: String
        public var kind: Kind
        public var help: String
        /// Upper bounds in seconds (histograms only).
        public var buckets: [Double] = []
    }

    typealias Name = CoordinatorMetrics.Name

    public static let entries: [Entry] = [
        // Read from the records at each scrape, so they agree with the database.
        Entry(name: "stylefarm_jobs", kind: .gauge, help: "Jobs by state, from the records."),
        Entry(name: "stylefarm_tasks", kind: .gauge, help: "Tasks by state, from the records."),
        Entry(name: "stylefarm_attempts", kind: .gauge, help: "Attempts by outcome, from the records."),
        Entry(name: "stylefarm_attempts_lost", kind: .gauge,
              help: "Attempts the infrastructure lost, by cause (heartbeat_timeout, connection_gone, worker_lost, key_revoked, worker_left, handed_back, coordinator_restarted, gang_cancelled, result_voided), from the records' reasons."),
        Entry(name: "stylefarm_workers_connected", kind: .gauge, help: "Workers with a session."),
        Entry(name: "stylefarm_iterations_per_second", kind: .gauge,
              help: "Optimiser iterations per second over the whole farm: the sum over running attempts of latest iteration / seconds since the attempt started (its loss log)."),
        Entry(name: "stylefarm_worker_iterations_per_second", kind: .gauge,
              help: "Iterations per second of each connected worker's running attempt, by worker name (same-named workers summed; at most 100 names, the farm total has all)."),
        // Measured by the coordinator as it runs (`CoordinatorMetrics`).
        Entry(name: Name.messagesReceived, kind: .counter,
              help: "Messages the coordinator received, by kind (malformed: could not be decoded)."),
        Entry(name: Name.messagesSent, kind: .counter, help: "Messages the coordinator sent, by kind."),
        Entry(name: Name.bytesReceived, kind: .counter,
              help: "Bytes the coordinator received (every frame but the routing identity), by message kind."),
        Entry(name: Name.bytesSent, kind: .counter, help: "Bytes the coordinator sent (every frame but the routing identity), by message kind."),
        Entry(name: Name.dispatchLatency, kind: .histogram,
              help: "Seconds from a worker's free slot being known (its ready credit arrived, or the last scheduling pass found no task it could run) to a task being leased to it: the coordinator's own dispatch delay, not time spent waiting for work.",
              buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
        Entry(name: Name.attemptDuration, kind: .histogram,
              help: "Seconds from an attempt's lease to its end as recorded, by task kind and outcome (succeeded, failed, lost, cancelled).",
              buckets: [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600]),
        Entry(name: Name.sqliteTransaction, kind: .histogram,
              help: "Seconds per write transaction of the records' batch helper (a batch of messages and its leases, an attempt's end, a cancel), waiting for the writer included.",
              buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]),
        Entry(name: Name.exchangeRound, kind: .histogram,
              help: "Seconds of an exact-mode exchange round: from its first shard contribution to the broadcast of the sums or edges to every shard.",
              buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
    ]

    static let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })

    /// The registry's descriptor of `name`, with its help text (none for a name not listed).
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: byName[name]?.help ?? "")
    }

    /// The names a scrape can show, histograms with their `_bucket`, `_sum` and `_count` series.
    public static var seriesNames: [String] {
        entries.flatMap { entry in
            entry.kind == .histogram ? ["_bucket", "_sum", "_count"].map { entry.name + $0 } : [entry.name]
        }
    }
}
