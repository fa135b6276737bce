import Farm
import GRDB

extension FarmRecords.Transaction {
    /// Notes the durations of attempts that just ended as `outcome` (their rows already say so),
    /// from their recorded lease and end, by task kind. One primary-key read per attempt, and
    /// none when nothing collects the figures.
    ///
    /// Counted where an attempt ends: succeeded, failed, lost, cancelled (not `undelivered`,
    /// which never ran). A succeeded attempt whose result is later voided (`reopen`) was
    /// counted when it succeeded and is not counted again.
    func timeEnded(_ attempts: [Int64], _ outcome: Farm.AttemptOutcome) throws {
        guard let metrics, metrics.isEnabled, !attempts.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            SELECT a.finished_at - a.started_at AS seconds, t.kind FROM attempt a JOIN task t ON t.id = a.task_id WHERE a.id = ?
            """)
        for attempt in attempts {
            guard let row = try Row.fetchOne(statement, arguments: [attempt]) else { continue }
            metrics.attemptEnded(taskKind: row["kind"] ?? "", outcome: outcome, seconds: row["seconds"] ?? 0)
        }
    }
}
