import Farm
import GRDB

/// Why attempts were lost, in a few categories (for `/metrics`): a bounded label set, whatever
/// free text a worker's goodbye or a voided result put in the reason.
public enum LostAttemptCause: String, Sendable, CaseIterable {
    /// Its worker said nothing for heartbeat × liveness.
    case heartbeatTimeout = "heartbeat_timeout"
    /// A send found its worker's connection gone (a killed process).
    case connectionGone = "connection_gone"
    /// Its worker was lost another way.
    case workerLost = "worker_lost"
    /// Its worker's key was revoked while connected.
    case keyRevoked = "key_revoked"
    /// Its worker left on purpose (goodbye, a second hello).
    case workerLeft = "worker_left"
    /// Its worker handed it back (shutting down, or it no longer held it).
    case handedBack = "handed_back"
    case coordinatorRestarted = "coordinator_restarted"
    /// An exact gang was cancelled because another shard was lost.
    case gangCancelled = "gang_cancelled"
    /// A result voided afterwards (its file missing when the job finished).
    case resultVoided = "result_voided"

    /// The category of a lost attempt's recorded reason (`LossCause` text, then the detail).
    public init(reason: String) {
        func has(_ cause: LossCause, _ detail: String = "") -> Bool { reason.hasPrefix(cause.rawValue + (detail.isEmpty ? "" : ": " + detail)) }
        self = if has(.workerLost, "silent for") { .heartbeatTimeout }
            else if has(.workerLost, "its connection is gone") { .connectionGone }
            else if has(.workerLost) { .workerLost }
            else if has(.workerLeft, "key revoked") { .keyRevoked }
            else if has(.workerLeft) { .workerLeft }
            else if has(.handedBack) { .handedBack }
            else if has(.coordinatorRestarted) { .coordinatorRestarted }
            else if has(.gangCancelled) { .gangCancelled }
            else { .resultVoided }
    }
}

extension FarmRecords {
    /// Lost attempts by cause, every cause present (0 when none).
    public func lostAttemptsByCause() throws -> [LostAttemptCause: Int] {
        try database.read { db in
            var counts = Dictionary(uniqueKeysWithValues: LostAttemptCause.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT reason, COUNT(*) AS n FROM attempt WHERE outcome = 'lost' GROUP BY reason") {
                counts[LostAttemptCause(reason: row["reason"] ?? ""), default: 0] += row["n"] as Int
            }
            return counts
        }
    }
}
