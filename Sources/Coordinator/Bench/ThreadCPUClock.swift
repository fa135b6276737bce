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
}

/// A value one thread hands to another (a measurement, a thread's outcome).
final class HandOff<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    func get() -> Value? { value.withLock { $0 } }
}
