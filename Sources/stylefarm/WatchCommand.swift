import ArgumentParser
import Coordinator
import Foundation
import Protocol

/// Reads the status document's fields without a schema of its own.
private extension JSONValue {
    subscript(_ key: String) -> JSONValue? { if case .object(let o) = self { o[key] } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a job: tasks done, and a progress bar with ETA per running task; exit 0 when it succeeded.")

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "The job id.")
    var job: String

    func run() throws {
        let client = try farm.client()
        let terminal = isatty(STDOUT_FILENO) == 1
        var lastText = ""
        var drawnLines = 0
        while true {
            guard let found = try client.status(jobID: job)["jobs"]?.array.first else {
                throw ValidationError("job \(job) is unknown to the coordinator at \(farm.coordinator)")
            }
            let state = found["state"]?.string ?? "?"
            var counts: [String: Int] = [:]
            if case .object(let tasks)? = found["tasks"] { for (k, v) in tasks { counts[k] = Int(v.number ?? 0) } }
            let total = counts.values.reduce(0, +)
            var lines = ["job \(job) \(state): \(counts["done"] ?? 0)/\(total) tasks done"
                         + (counts["failed", default: 0] > 0 ? ", \(counts["failed"]!) failed" : "")]
            if let tiles = found["tiles"] {
                lines += Self.tileLines(tiles)
            }
            for task in found["running"]?.array ?? [] {
                let iteration = Int(task["iteration"]?.number ?? 0), iterations = max(1, Int(task["iterations"]?.number ?? 1))
                let elapsed = task["elapsed"]?.number ?? 0
                let eta = iteration > 0 ? elapsed / Double(iteration) * Double(iterations - iteration) : 0
                let filled = 20 * min(iteration, iterations) / iterations
                lines.append("  \(task["key"]?.string ?? "?") [\(String(repeating: "█", count: filled))\(String(repeating: "·", count: 20 - filled))] "
                             + "\(iteration)/\(iterations) ETA \(TerminalProgress.duration(eta)) on \(task["worker"]?.string ?? "?")")
            }
            let text = lines.joined(separator: "\n")
            if terminal {
                if drawnLines > 0 { print("\u{1B}[\(drawnLines)A\u{1B}[J", terminator: "") }
                print(text)
                drawnLines = lines.count
            } else if text != lastText {
                print(text)
            }
            lastText = text
            fflush(nil)
            if ["succeeded", "failed", "cancelled"].contains(state) {
                if state == "succeeded" { return }
                throw ExitCode(1)
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }
}

extension WatchCommand {
    /// A tiled job's grid as the status document draws it ('·' waiting, '▒' rendering,
    /// '█' done, '✗' failed), under a line with its other stages; too wide a grid is summarised.
    static func tileLines(_ tiles: JSONValue) -> [String] {
        let rows = Int(tiles["rows"]?.number ?? 0), columns = Int(tiles["columns"]?.number ?? 0)
        var stages: [String] = []
        if case .object(let states)? = tiles["stages"] {
            let shards = states.keys.filter { $0.hasPrefix("shard-") }.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }
            for key in ["coarse", "style-targets"] + shards + ["stitch"] {
                if let state = states[key]?.string { stages.append("\(key) \(state)") }
            }
        }
        let counts = rows * columns > 0 ? "tiles \(Int(tiles["done"]?.number ?? 0))/\(rows * columns) done (\(rows)×\(columns)); " : ""
        var lines = ["  " + counts + stages.joined(separator: ", ")]
        if columns <= 100 && rows <= 60 {
            lines += (tiles["grid"]?.array ?? []).map { "  " + ($0.string ?? "") }
        }
        return lines
    }
}

struct WorkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workers", abstract: "The workers connected to the coordinator.")

    @OptionGroup var farm: CoordinatorOption

    func run() throws {
        let workers = try farm.client().status()["workers"]?.array ?? []
        if workers.isEmpty { print("no workers connected") }
        for worker in workers {
            print("\(worker["id"]?.string ?? "?")\t\(Int(worker["threads"]?.number ?? 0)) threads")
        }
    }
}
