import Foundation

/// The memory of the machine (or container) a worker runs on, from Linux's own accounts.
public enum MachineMemory {
    /// What a worker announces it may render in: physical memory, or its cgroup's limit when
    /// that is lower (a container, a Slurm allocation, a systemd MemoryMax).
    public static func announced() -> Int64 {
        let physical = Int64(clamping: ProcessInfo.processInfo.physicalMemory)
        guard let limit = cgroupLimit(), limit > 0 else { return physical }
        return min(physical, limit)
    }

    /// MemAvailable from /proc/meminfo, in bytes (nil where it cannot be read).
    public static func available() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes.multipliedReportingOverflow(by: 1024).partialValue }
        }
        return nil
    }

    /// cgroup v2's `memory.max` of this process's group ("max" means none).
    static func cgroupLimit() -> Int64? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let group = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup" + group + "/memory.max", encoding: .utf8) else { return nil }
        return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
