import Coordinator
import Engine
import Foundation
import Logging

/// `render --balance auto` on one machine, as the farm's sweeps do it: a calibration render of
/// the same request without σ (at γ = 0.5 for two styles without explicit weights), whose
/// relative improvements RIᵢ give σ (`Balancing`, Froehling 2021); the real render then uses σ.
struct BalanceCalibration: Codable, Sendable {
    /// The weights the calibration rendered with, as the user would write them.
    var weightsDescription: String
    var relativeImprovement: [Double]
    var sigmas: [Float]
    var iterations: Int
    var seconds: Double

    static func run(_ request: RenderRequest, network: VGG19Network, logger: Logger) throws -> BalanceCalibration {
        var calibration = request
        calibration.sigmas = nil
        if calibration.stylePaths.count == 2 && calibration.styleWeights == nil { calibration.gamma = 0.5 }
        let settings = try calibration.resolve()
        let described = calibration.styleWeights.map { "weights " + $0.map { String(format: "%g", $0) }.joined(separator: ",") }
            ?? calibration.gamma.map { "γ = \(String(format: "%g", $0))" } ?? "equal weights"
        logger.info("balance: calibration render", metadata: ["weights": "\(described)"])
        let progress = TerminalProgress()
        let result = try Renderer(settings: settings, network: network, logger: logger).run(progress: { progress.show($0) })
        let ri = result.summary.relativeImprovement
        return BalanceCalibration(weightsDescription: described, relativeImprovement: ri,
                                  sigmas: try Balancing.sigmas(relativeImprovements: ri),
                                  iterations: result.summary.iterationsRun, seconds: result.summary.timings.optimizeSeconds)
    }
}

/// `--summary`'s JSON: the render's summary, and the calibration when `--balance auto` ran one.
struct BalancedSummary: Encodable {
    var render: RenderSummary
    var calibration: BalanceCalibration?

    func encode(to encoder: any Encoder) throws {
        try render.encode(to: encoder)
        guard let calibration else { return }
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(calibration, forKey: Key(stringValue: "balance_calibration"))
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
