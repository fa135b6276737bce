public import Foundation
import Protocol
import Synchronization

/// The latest preview of each running attempt, shared between the coordinator's loop (which
/// registers attempts and stores previews, O(1) each) and the HTTP threads (which read). In
/// memory only: a restarted coordinator starts with none, and the next progress brings them.
///
/// Bounded twice: one preview per attempt the loop has registered as running (an attempt that
/// ends, is lost or cancelled is forgotten, and `retain(only:)` prunes against the sessions'
/// attempts every heartbeat), and `maxBytes` in all.
public final class LivePreviewStore: Sendable {
    private struct State {
        /// Attempts the loop assigned and has not seen end: what a preview may be about.
        var running: [Int64: (job: String, key: String)] = [:]
        var previews: [Int64: LivePreview] = [:]
        var bytes = 0
        var received = 0
        var dropped = 0
    }

    private let state = Mutex(State())
    /// All previews together: 256 running attempts of 256 KiB each at most, far above the
    /// ~20 kB JPEGs workers send.
    public let maxBytes: Int

    public init(maxBytes: Int = 64 << 20) {
        self.maxBytes = maxBytes
    }

    // MARK: The loop

    /// The loop sent `attempt` of `job`'s task `key` to a worker.
    func assigned(_ attempt: Int64, job: String, key: String) {
        state.withLock { $0.running[attempt] = (job, key) }
    }

    /// The attempts are over (a result, a failure, a lost session, a cancel): their previews go.
    func ended<S: Sequence>(_ attempts: S) where S.Element == Int64 {
        state.withLock { state in
            for attempt in attempts {
                state.running.removeValue(forKey: attempt)
                if let old = state.previews.removeValue(forKey: attempt) { state.bytes -= old.bytes.count }
            }
        }
    }

    /// Forgets every attempt not in `attempts` (the sessions' running attempts): whatever path
    /// an attempt ended by, its preview is gone within a heartbeat.
    func retain(only attempts: Set<Int64>) {
        state.withLock { state in
            guard state.running.keys.contains(where: { !attempts.contains($0) }) else { return }
            state.running = state.running.filter { attempts.contains($0.key) }
            for (attempt, old) in state.previews where state.running[attempt] == nil {
                state.previews.removeValue(forKey: attempt)
                state.bytes -= old.bytes.count
            }
        }
    }

    /// Keeps `preview` as `attempt`'s latest, if the attempt is running and the bound allows;
    /// returns whether it was kept. The caller has checked that the sender holds the attempt.
    @discardableResult
    func update(_ attempt: Int64, preview: PreviewImage, iteration: Int, iterations: Int?, at now: Date = Date()) -> Bool {
        state.withLock { state in
            guard let task = state.running[attempt] else {
                state.dropped += 1
                return false
            }
            let previous = state.previews[attempt]?.bytes.count ?? 0
            guard state.bytes - previous + preview.bytes.count <= maxBytes else {
                state.dropped += 1
                return false
            }
            state.previews[attempt] = LivePreview(job: task.job, key: task.key, attemptID: attempt, iteration: iteration,
                                                  iterations: iterations, mimeType: preview.format.mimeType, bytes: preview.bytes,
                                                  width: preview.width, height: preview.height, updatedAt: now)
            state.bytes += preview.bytes.count - previous
            state.received += 1
            return true
        }
    }

    /// A preview refused before it got here (from an identity that does not hold its attempt,
    /// or about a stale attempt).
    func noteDropped() {
        state.withLock { $0.dropped += 1 }
    }

    // MARK: Readers (any thread)

    /// The latest preview of `job`'s task `key`, if it is running and has sent one.
    public func preview(job: String, key: String) -> LivePreview? {
        state.withLock { state in
            // Two attempts of one task overlap only briefly (a retry before the old one is
            // pruned): the newer one is the live one.
            state.previews.values.filter { $0.job == job && $0.key == key }.max { $0.attemptID < $1.attemptID }
        }
    }

    /// The latest preview of each of `job`'s running tasks that has sent one, by key.
    public func previews(job: String) -> [LivePreview] {
        state.withLock { state in state.previews.values.filter { $0.job == job } }.sorted { $0.key < $1.key }
    }

    public func counts() -> LivePreviewCounts {
        state.withLock { LivePreviewCounts(received: $0.received, dropped: $0.dropped, held: $0.previews.count, heldBytes: $0.bytes) }
    }
}
