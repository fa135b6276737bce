#if canImport(Glibc)
import Glibc
#endif
internal import CSFOpenBLAS

/// The process's peak resident memory, for benchmarks and render summaries.
public enum ProcessMemory {
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024   // kilobytes on Linux
    }

    /// Makes every allocation of 4 MB or more its own mapping, returned to the system when freed.
    /// glibc otherwise raises that threshold to the largest block freed so far, so that an exact
    /// shard which makes and frees one window's graph after another (each a few hundred MB, of
    /// two or three sizes) serves them from a heap that never shrinks: measured 1580 MB peak for
    /// a 16384-wide band whose live buffers never exceeded about 1.1 GB. Applied once, by the
    /// first `FeatureGraph`.
    static let largeAllocationsAreMapped: Void = {
        _ = sf_map_large_allocations()
    }()
}
