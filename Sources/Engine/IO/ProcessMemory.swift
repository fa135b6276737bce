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

    /// Starts a new peak: the kernel's high-water mark (VmHWM) is set to the current resident
    /// size (`/proc/self/clear_refs`), so that `peakResidentSinceResetMegabytes` measures one
    /// task and not what the process did before it (loading its weights, an earlier task).
    /// Returns false where the kernel does not allow it.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
        defer { fclose(file) }
        return fputs("5", file) >= 0
    }

    /// VmHWM of /proc/self/status: the peak since `resetPeak` (or since the start); the
    /// getrusage peak where /proc cannot be read.
    public static func peakResidentSinceResetMegabytes() -> Double {
        guard let file = fopen("/proc/self/status", "r") else { return peakResidentMegabytes() }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("VmHWM:") else { continue }
            let digits = text.dropFirst(6).filter(\.isNumber)
            if let kilobytes = Double(String(digits)) { return kilobytes / 1024 }
        }
        return peakResidentMegabytes()
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
