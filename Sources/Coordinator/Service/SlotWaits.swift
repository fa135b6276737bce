import CoreMetrics
import Foundation

/// The dispatch latency: how long a worker's free slot waits for a task while there is one it
/// could run. A wait starts when the worker's `ready` gives it credit; a scheduling pass that
/// finds nothing for a slot starts the wait again (the farm had no work for it, which is not
/// dispatch delay). Each lease records the wait of the worker it goes to. With an empty queue
/// the coordinator runs a pass at least every poll interval (100 ms), so a task that becomes
/// ready while a worker idles is measured from at most one interval before it.
///
/// Owned by the loop's thread (like the sessions); keyed by session id, which no later session
/// reuses, and rebuilt from the workers with credit at every pass, so it stays bounded.
struct SlotWaits {
    private var since: [String: ContinuousClock.Instant] = [:]

    /// A worker's `ready` set its credit.
    mutating func credited(_ worker: String, credit: Int, now: ContinuousClock.Instant) {
        if credit > 0 {
            if since[worker] == nil { since[worker] = now }
        } else {
            since[worker] = nil
        }
    }

    /// A scheduling pass is over: `credited` had free slots (worker id, credit), `leased` counts
    /// the tasks each got. Each lease records its worker's wait; a worker left with free slots
    /// waits again from now, one whose slots are all taken waits no more.
    mutating func passed(credited: [(worker: String, credit: Int)], leased: [String: Int],
                         now: ContinuousClock.Instant, into timer: CoreMetrics.Timer) {
        var next: [String: ContinuousClock.Instant] = [:]
        next.reserveCapacity(credited.count)
        for (worker, credit) in credited {
            let count = leased[worker] ?? 0
            if count > 0, let start = since[worker] {
                let nanoseconds = CoordinatorMetrics.nanoseconds(now - start)
                for _ in 0..<count { timer.recordNanoseconds(nanoseconds) }
            }
            if count < credit { next[worker] = now }
        }
        since = next
    }
}

extension CoordinatorService {
    /// After a scheduling pass: records the dispatch latency of each lease it made (`assignments`:
    /// the peer of each) and restarts the wait of slots left free.
    func noteDispatch(credited: [Data: WorkerSession], assignments: [Data]) {
        var leased: [String: Int] = [:]
        for peer in assignments {
            if let id = credited[peer]?.id { leased[id, default: 0] += 1 }
        }
        slotWaits.passed(credited: credited.values.map { ($0.id, $0.credit) }, leased: leased, now: clock.now,
                         into: metrics.dispatchLatency)
    }
}
