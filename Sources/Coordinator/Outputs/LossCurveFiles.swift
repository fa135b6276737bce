internal import Engine
internal import Foundation
#if canImport(Glibc)
internal import Glibc
#endif
public import Protocol

/// A job folder's `losses/<name>.svg`: each task's loss curves, drawn from its last attempt
/// (the one whose image the folder holds; iterations restart with every attempt), named after
/// the task's image (`gamma-0.5.png` → `losses/gamma-0.5.svg`, `tiles/tile-r0-c1.png` →
/// `losses/tile-r0-c1.svg`).
public enum LossCurveFiles {
    public static let folder = "losses"

    /// The plot's path in the job's folder for a task whose image is `outputName`.
    public static func path(forOutput outputName: String) -> String {
        let file = outputName.split(separator: "/").last.map(String.init) ?? outputName
        let stem = file.contains(".") ? String(file[..<(file.lastIndex(of: ".") ?? file.endIndex)]) : file
        return folder + "/" + (stem.isEmpty ? "task" : stem) + ".svg"
    }

    /// Each task's last attempt's lines, by task key, from the job's loss lines in record order.
    public static func lastAttempts(_ lines: [(key: String, attempt: Int64, line: LossLine)]) -> [String: [LossLine]] {
        var latest: [String: (attempt: Int64, lines: [LossLine])] = [:]
        for entry in lines {
            if let current = latest[entry.key], current.attempt == entry.attempt {
                latest[entry.key]?.lines.append(entry.line)
            } else if (latest[entry.key]?.attempt ?? .min) < entry.attempt {
                latest[entry.key] = (entry.attempt, [entry.line])
            }
        }
        return latest.mapValues(\.lines)
    }

    /// Writes one plot per task that has lines and an output name; returns each written
    /// plot's path in the folder, and its SVG for the first `keepInline` tasks (in key order)
    /// when the job has no more than that many, for the index page to paste.
    static func write(lastAttempts: [String: [LossLine]], outputNames: [String: String], titles: [String: String],
                      styleNames: [String], directory: String,
                      keepInline: Int = JobIndexPage.inlinePlotLimit) throws -> [String: (file: String, svg: String?)] {
        let keys = lastAttempts.keys.filter { outputNames[$0] != nil }.sorted()
        guard !keys.isEmpty else { return [:] }
        try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
        let inline = keys.count <= keepInline
        var written: [String: (file: String, svg: String?)] = [:]
        for key in keys {
            guard let lines = lastAttempts[key], let outputName = outputNames[key] else { continue }
            let file = path(forOutput: outputName)
            let svg = LossCurves(lines: lines, styleNames: styleNames, title: "Losses: " + (titles[key] ?? key)).svg()
            // Renamed into place but not flushed one by one: a 10 000-point sweep would pay
            // 10 000 fsyncs. The caller flushes the folder once when all are written.
            let target = directory + "/" + file
            do {
                try Data(svg.utf8).write(to: URL(fileURLWithPath: target + ".partial"))
                try FileManager.default.moveItemReplacing(from: target + ".partial", to: target)
            } catch {
                throw EngineError(.io, "cannot write the loss plot '\(target)'; check that the job's folder is writable", cause: "\(error)")
            }
            written[key] = (file, inline ? svg : nil)
        }
        return written
    }
}

extension FileManager {
    /// rename(2): replaces `to` atomically, unlike `moveItem`, which refuses an existing target.
    func moveItemReplacing(from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw EngineError(.io, "cannot rename '\(from)' to '\(to)'", cause: String(cString: strerror(errno)))
        }
    }
}
