#if canImport(Glibc)
import Glibc
#endif

/// The process's peak resident memory, for benchmarks and render summaries.
public enum ProcessMemory {
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024   // kilobytes on Linux
    }
}
