public import CoreMetrics
import Farm
public import Protocol
import Synchronization

/// What the coordinator measures as it runs, through swift-metrics' API: whoever builds the
/// service passes a `MetricsFactory` (the HTTP side's Prometheus registry, `FarmMetrics`), and
/// nothing here knows how the figures are exposed. Without one, every instrument is swift-metrics'
/// no-op and costs a call.
///
/// Every instrument is made up front (or once per label set, under a short lock), so the
/// ZeroMQ loop only adds to atomics (counters) or takes a histogram's own short lock: no
/// allocation and no lookup beyond an array index per message.
public final class CoordinatorMetrics: Sendable {
    /// The metric names, in Prometheus's conventions (base units, `_total` for counters). The
    /// HTTP side's catalogue gives each its help text and buckets; the Grafana dashboard and its
    /// check use the same names.
    public enum Name {
        public static let messagesReceived = "stylefarm_messages_received_total"
        public static let messagesSent = "stylefarm_messages_sent_total"
        public static let bytesReceived = "stylefarm_received_bytes_total"
        public static let bytesSent = "stylefarm_sent_bytes_total"
        public static let dispatchLatency = "stylefarm_dispatch_latency_seconds"
        public static let attemptDuration = "stylefarm_attempt_duration_seconds"
        public static let sqliteTransaction = "stylefarm_sqlite_transaction_seconds"
        public static let exchangeRound = "stylefarm_exchange_round_seconds"
    }

    /// The label a message that could not be decoded is counted under.
    public static let malformedKind = "malformed"

    let factory: any MetricsFactory
    /// Whether anything collects the figures (figures that cost a query are skipped otherwise).
    let isEnabled: Bool
    /// By `MessageKind.allCases` index, then the malformed slot.
    private let received: [Counter]
    private let sent: [Counter]
    private let receivedBytes: [Counter]
    private let sentBytes: [Counter]
    let dispatchLatency: Timer
    let sqliteTransaction: Timer
    let exchangeRound: Timer
    /// Attempt durations by (task kind, outcome), made on first use: at most
    /// `PlannedTask.Kind` × the four ends, plus "other" for a kind this build does not know.
    private let attemptDurations = Mutex<[String: Timer]>([:])

    private static let kinds = MessageKind.allCases

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        isEnabled = !(factory is NOOPMetricsHandler)
        func counters(_ name: String) -> [Counter] {
            (Self.kinds.map(\.rawValue) + [Self.malformedKind]).map { Counter(label: name, dimensions: [("kind", $0)], factory: factory) }
        }
        received = counters(Name.messagesReceived)
        sent = counters(Name.messagesSent)
        receivedBytes = counters(Name.bytesReceived)
        sentBytes = counters(Name.bytesSent)
        dispatchLatency = Timer(label: Name.dispatchLatency, factory: factory)
        sqliteTransaction = Timer(label: Name.sqliteTransaction, factory: factory)
        exchangeRound = Timer(label: Name.exchangeRound, factory: factory)
    }

    /// The slot of a kind in the counter arrays (nil: malformed).
    private static func slot(_ kind: MessageKind?) -> Int {
        guard let kind, let index = kinds.firstIndex(of: kind) else { return kinds.count }
        return index
    }

    /// A message arrived: `bytes` is its size on the wire without the routing identity.
    func received(_ kind: MessageKind?, bytes: Int) {
        let slot = Self.slot(kind)
        received[slot].increment()
        receivedBytes[slot].increment(by: bytes)
    }

    /// A message went out to a peer.
    func sent(_ kind: MessageKind, bytes: Int) {
        let slot = Self.slot(kind)
        sent[slot].increment()
        sentBytes[slot].increment(by: bytes)
    }

    /// An attempt ended after `seconds` (from its lease to its end as recorded).
    func attemptEnded(taskKind: String, outcome: Farm.AttemptOutcome, seconds: Double) {
        let kind = PlannedTask.Kind(rawValue: taskKind)?.rawValue ?? "other"
        let key = kind + "/" + outcome.rawValue
        let timer = attemptDurations.withLock { timers in
            if let known = timers[key] { return known }
            let made = Timer(label: Name.attemptDuration, dimensions: [("kind", kind), ("outcome", outcome.rawValue)], factory: factory)
            timers[key] = made
            return made
        }
        timer.recordNanoseconds(Self.nanoseconds(seconds))
    }

    static func nanoseconds(_ seconds: Double) -> Int64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int64(min(seconds, 1e9) * 1e9)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return min(seconds, 1_000_000_000) * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension WireMessage {
    /// Its size on the wire: every frame (tag, kind, header, payloads).
    var byteCount: Int {
        Self.tagBytes.count + 2 + kind.rawValue.utf8.count + header.count + payloads.reduce(0) { $0 + $1.count }
    }
}
