import ArgumentParser
import Engine
import Foundation
import Logging

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures (not tests).",
        subcommands: [BenchEngineCommand.self])
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
