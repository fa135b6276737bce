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

extension Parallel {
    /// `forEachChunk` that also passes the chunk's index (0 ..< min(threads, count)), for
    /// kernels that give each chunk its own scratch buffer.
    public static func forEachIndexedChunk(_ count: Int, threads: Int, _ body: (Int, Range<Int>) -> Void) {
        let parts = max(1, min(threads, count))
        if parts <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        // nonisolated(unsafe): as in forEachChunk; chunks write disjoint outputs and scratch.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = count * part / parts
            let end = count * (part + 1) / parts
            if start < end { body(part, start..<end) }
        }
    }
}
