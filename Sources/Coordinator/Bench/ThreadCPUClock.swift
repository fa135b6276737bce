#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// CPU time of the calling thread, to tell the coordinator's own cost apart from the simulated
/// workers' in one process.
enum ThreadCPUClock {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// One measurement handed from the measured thread to the caller.
    final class Box: Sendable {
        private let seconds = Mutex<Double>(0)
        func set(_ value: Double) { seconds.withLock { $0 = value } }
        func get() -> Double { seconds.withLock { $0 } }
    }
}
