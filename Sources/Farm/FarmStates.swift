/// The states of the farm's records, one type each, stored in SQLite as their raw values.
/// Every file that asks "is this job finished?" asks these types, not string literals.

/// A job's life: `queued` → `running` → `finishing` (every task done; the job's own outputs —
/// contact sheet, plots, losses.csv, job.json — are being written) → `succeeded`; or `failed`,
/// `cancelled`. A coordinator restarted while a job is `finishing` writes its outputs again.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, finishing, succeeded, failed, cancelled

    /// Nothing more will happen to the job.
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
    /// Tasks of the job may still be leased.
    public var isActive: Bool { self == .queued || self == .running }
}

/// A task's life: `ready` (possibly not before a back-off instant) → `leased` → `done`; or
/// `failed` (its own failures used its budget), `cancelled` (its job ended first).
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case ready, leased, done, failed, cancelled
}

/// How one attempt at a task ended.
public enum AttemptOutcome: String, Sendable, Codable, CaseIterable {
    /// Leased to a worker, which is rendering it.
    case running
    /// The result arrived and its file is being written: nothing (a lost worker, a goodbye)
    /// can make it stale any more; only a coordinator restart before the file is recorded.
    case received
    case succeeded
    /// The task itself failed (bad input, out of memory…): counts against its failure budget.
    case failed
    /// The infrastructure lost it (worker killed or silent, hand-back, coordinator restart, an
    /// exact gang cancelled because another shard's worker died): counts against the much
    /// larger loss budget, with back-off.
    case lost
    /// The assignment could not be sent (the worker had gone): not an attempt at all.
    case undelivered
    /// Its job was cancelled or failed.
    case cancelled
}

/// Why the infrastructure lost an attempt (recorded as its reason, counted in `losses`).
public enum LossCause: String, Sendable, Codable, CaseIterable {
    case workerLost = "worker lost"
    case workerLeft = "worker left"
    case handedBack = "handed back"
    case coordinatorRestarted = "coordinator restarted"
    case gangCancelled = "gang cancelled"
}
