import Foundation
import Testing
import TestSupport

/// Cancelling a job stops its running tasks on the workers, not only in the records.
@Suite(.serialized)
struct FarmCancelTests {
    @Test func cancellingAJobFreesItsWorkerAtOnce() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(1)
        let long = try farm.submitSweep(gamma: "0.5", iterations: 100_000)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !(try farm.run(["status", long, "--coordinator", farm.endpoint]).output.contains("\"leased\" : 1")) {
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(try farm.run(["cancel", long, "--coordinator", farm.endpoint]).status == 0)
        // With the long render still going, this job could not finish: the only worker is busy.
        let short = try farm.submitSweep(gamma: "0.5", iterations: 2)
        let (status, output) = try farm.wait(short, timeout: 60)
        #expect(status == 0, "\(output)\n\(farm.log("worker-"))")
    }
}
