import Dispatch

/// Splits element-wise work over a fixed number of threads. Each thread gets one contiguous
/// chunk and writes disjoint outputs, so results do not depend on scheduling: a render stays
/// deterministic for a given thread count.
public enum Parallel {
    public static func forEachChunk(_ count: Int, threads: Int, minimumChunk: Int = 1,
                                    _ body: (Range<Int>) -> Void) {
        let parts = max(1, min(threads, count / max(minimumChunk, 1)))
        if parts <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        // nonisolated(unsafe): concurrentPerform returns only after every chunk ran, and chunks
        // write disjoint ranges, so the non-Sendable closure (it captures raw pointers) is safe.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = count * part / parts
            let end = count * (part + 1) / parts
            if start < end { body(start..<end) }
        }
    }
}
