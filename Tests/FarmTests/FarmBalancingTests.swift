import Foundation
import Testing
import TestSupport
@testable import Coordinator
import Engine

/// `--balance auto` end to end: the calibration task runs first on a worker, and every sweep
/// task is rendered with the σ derived from its relative improvements.
@Suite(.serialized)
struct FarmBalancingTests {
    @Test func balanceAutoCalibratesFirstAndRendersEveryPointWithItsSigmas() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        let job = try farm.submitSweep(gamma: "0:1:0.5", iterations: 3, extra: ["--balance", "auto"])
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)")

        let records = try FarmRecords(path: farm.data + "/farm.sqlite")
        let decoder = JSONDecoder()
        let calibration = try decoder.decode(RenderSummary.self, from: try #require(try records.result(ofTask: "calibrate", inJob: job)))
        #expect(calibration.settings.styleWeights == [0.5, 0.5], "calibration runs at γ = 0.5")
        let expected = try Balancing.sigmas(relativeImprovements: calibration.relativeImprovement)
        #expect(expected.contains { $0 != 1 }, "two different styles improve differently: \(calibration.relativeImprovement)")
        let renders = try records.finishedTasks(ofJob: job).filter { $0.key != "calibrate" }
        #expect(renders.count == 3)
        for task in renders {
            let summary = try decoder.decode(RenderSummary.self, from: try #require(task.result))
            #expect(summary.settings.sigmas == expected, "\(task.key) rendered with σ \(summary.settings.sigmas)")
        }
        // The σ used is reported with every render: in job.json and in every row of losses.csv.
        let folder = farm.data + "/jobs/" + job
        let manifest = try JobManifest.decode(try Data(contentsOf: URL(fileURLWithPath: folder + "/job.json")))
        #expect(manifest.tasks.filter { $0.key != "calibrate" }.allSatisfy { $0.sigmas == expected })
        let rows = try String(contentsOfFile: folder + "/losses.csv", encoding: .utf8).split(separator: "\n")
        let sigma2 = try #require(rows.first?.split(separator: ",").firstIndex(of: "sigma_2"))
        let gammaRows = rows.dropFirst().filter { $0.hasPrefix("gamma=") }
        #expect(!gammaRows.isEmpty && gammaRows.allSatisfy { Float($0.split(separator: ",", omittingEmptySubsequences: false)[sigma2]) == expected[1] })
    }
}
