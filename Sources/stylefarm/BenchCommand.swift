import ArgumentParser
import Coordinator
import Dashboard
import Engine
import Foundation
import Logging

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures (not tests).",
        subcommands: [BenchEngineCommand.self, BenchFarmCommand.self])
}

struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Time one forward + backward of the full objective (pastiche preset, VGG19 to block5_relu1); print one JSON line.")

    @Option(help: "Image side in pixels (square).")
    var size = 512

    @Option(help: "Timed evaluations (after one warm-up); the median is reported.")
    var iterations = 5

    @Option(help: "Threads.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        CLILogging.bootstrap()
        let bench = EngineBenchmark(size: size, iterations: iterations, threads: threads)
        let network = try WeightsStore.fromEnvironment().loadNetwork(
            for: bench.preset.styleLayers.map(\.layer) + bench.preset.contentLayers.map(\.layer))
        print(try JSONOutput.line(try bench.run(network: network)))
    }
}

struct BenchFarmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "farm",
        abstract: "The coordinator's own overhead: a real coordinator (ZeroMQ on loopback, SQLite in WAL mode) serves N tasks to W simulated workers that complete each task at once; print one JSON line with tasks/s and dispatch latency.",
        discussion: "The simulated workers exist only in this benchmark; real jobs never use them. The database and one output file per task go to a fresh directory under $STYLEFARM_HOME (removed afterwards) unless --data is given: put it on the disk a real coordinator's --data would use, since creating files is a large part of the cost.")

    @Option(help: "Simulated workers, each its own DEALER socket.")
    var workers = 200

    @Option(help: "Tasks in the benchmark job.")
    var tasks = 20_000

    @Option(help: "Data directory for the coordinator (default: a fresh directory under $STYLEFARM_HOME, removed afterwards).")
    var data: String?

    @Flag(help: "Record the coordinator's figures in a Prometheus registry, as `coordinator --http` does (to measure what /metrics costs the loop).")
    var metrics = false

    func run() throws {
        CLILogging.bootstrap()
        let directory = data ?? WeightsStore.fromEnvironment().home + "/bench-farm-\(UInt64.random(in: 0...UInt64.max))"
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var bench = FarmBenchmark(workers: workers, tasks: tasks, dataDirectory: directory)
        if metrics { bench.metrics = FarmMetrics().coordinator }
        print(try JSONOutput.line(try bench.run(logger: Logger(label: "stylefarm.bench"))))
    }
}
