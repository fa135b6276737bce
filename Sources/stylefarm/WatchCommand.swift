import ArgumentParser
import Coordinator
import Farm
import Foundation
import Protocol

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a job: tasks done, and a progress bar with ETA per running task; exit 0 when it succeeded.")

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "The job id.")
    var job: String

    @Option(help: "Give up after this many seconds (exit 2; 3 if the coordinator stays unreachable).")
    var timeout: Double?

    func run() throws {
        let terminal = isatty(STDOUT_FILENO) == 1
        var lastText = ""
        var drawnLines = 0
        let found = try JobPoller(farm: farm, job: job, timeout: timeout, interval: 0.5).follow { found, http in
            let total = found.taskTotal
            var lines = ["job \(job) \(found.state.rawValue): \(found.count(.done))/\(total) tasks done"
                         + (found.count(.failed) > 0 ? ", \(found.count(.failed)) failed" : "")
                         + (http.map { " · \($0)/jobs/\(job)" } ?? "")]
            if let waiting = found.waiting { lines.append("  waiting: \(waiting)") }
            if let tiles = found.tiles { lines += Self.tileLines(tiles) }
            for task in found.running {
                let iteration = max(0, task.iteration), iterations = max(1, task.iterations)
                let eta = iteration > 0 ? task.elapsed / Double(iteration) * Double(max(0, iterations - iteration)) : 0
                let filled = 20 * min(iteration, iterations) / iterations
                lines.append("  \(task.key) [\(String(repeating: "█", count: filled))\(String(repeating: "·", count: 20 - filled))] "
                             + "\(iteration)/\(iterations) ETA \(TerminalProgress.duration(eta)) on \(task.worker)")
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
        }
        if found.state != .succeeded { throw ExitCode(1) }
    }
}

extension WatchCommand {
    /// A tiled job's grid as the status document draws it ('·' waiting, '▒' rendering,
    /// '█' done, '✗' failed), under a line with its other stages; too wide a grid is summarised.
    /// How `watch` draws a tile's state.
    static func glyph(_ state: Farm.TaskState?) -> Character {
        switch state {
        case .done?: "█"
        case .leased?: "▒"
        case .failed?, .cancelled?: "✗"
        case .ready?: "·"
        case nil: " "
        }
    }

    /// Where a task goes in the line of a tiled job's other tasks: the coarse pass, then each
    /// exact stage (`style-targets-2`, `shard-2-1`…, `stitch-2`) in order, the last stage's
    /// unsuffixed keys last; shards by number.
    static func stageOrder(_ key: String) -> [Int] {
        if key == "coarse" { return [0] }
        let kinds = ["style-targets": 0, "shard": 1, "stitch": 2]
        for (prefix, kind) in kinds.sorted(by: { $0.value < $1.value }) where key == prefix || key.hasPrefix(prefix + "-") {
            let numbers = key.dropFirst(prefix.count).split(separator: "-").compactMap { Int($0) }
            // style-targets-S, stitch-S, shard-S-K: staged; style-targets, stitch, shard-K: the last stage.
            let staged = kind == 1 ? numbers.count == 2 : numbers.count == 1
            let stage = staged ? numbers.first ?? 0 : Int.max
            return [1, stage, kind, numbers.last ?? 0]
        }
        return [2]
    }

    static func tileLines(_ tiles: TileGridStatus) -> [String] {
        let rows = tiles.rows, columns = tiles.columns
        var stages: [String] = []
        for key in tiles.stages.keys.sorted(by: { stageOrder($0).lexicographicallyPrecedes(stageOrder($1)) }) {
            if let state = tiles.stages[key] { stages.append("\(key) \(state)") }
        }
        let counts = rows * columns > 0 ? "tiles \(tiles.done)/\(rows * columns) done (\(rows)×\(columns)); " : ""
        var lines = ["  " + counts + stages.joined(separator: ", ")]
        if columns <= 100 && rows <= 60 {
            lines += tiles.states.map { row in "  " + String(row.map { Self.glyph(TileGridStatus.state(for: $0)) }) }
        }
        return lines
    }
}

struct WorkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workers", abstract: "The workers connected to the coordinator.")

    @OptionGroup var farm: CoordinatorOption

    func run() throws {
        let status = try farm.client().status(limit: 1)
        if status.workers.isEmpty { print("no workers connected") }
        for worker in status.workers {
            var fields = [worker.id, worker.host ?? "?", "\(worker.threads) threads"]
            if let memory = worker.memoryBytes { fields.append(String(format: "%.1f GiB", Double(memory) / Double(1 << 30))) }
            if let task = worker.task {
                fields.append(task)
                if let speed = worker.iterationsPerSecond { fields.append(String(format: "%.2f it/s", speed)) }
            } else {
                fields.append("idle")
            }
            if worker.draining == true { fields.append("draining") }
            if let failures = worker.failures, failures > 0 { fields.append("\(failures) failed") }
            if let blocked = worker.blockedJobs, !blocked.isEmpty { fields.append("blocked for " + blocked.joined(separator: ",")) }
            print(fields.joined(separator: "\t"))
        }
        if let more = status.workersOmitted { print("… and \(more) more") }
    }
}
