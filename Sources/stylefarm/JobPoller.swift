import ArgumentParser
import Coordinator
import Farm
import Foundation

/// Follows one job through coordinator restarts: asks for its status on a fresh connection
/// whenever the last one went unanswered, until the job ends or the deadline passes.
/// Exit codes (for `wait` and `watch`): 0 succeeded, 1 failed or cancelled, 2 still running at
/// `--timeout`, 3 the coordinator unreachable past the timeout, 64 usage (an unknown job).
struct JobPoller {
    static let unreachableExit: Int32 = 3
    static let stillRunningExit: Int32 = 2
    /// Without `--timeout`, how long the coordinator may stay unreachable before giving up.
    static let defaultUnreachableSeconds = 600.0

    let farm: CoordinatorOption
    let job: String
    let timeout: Double?
    var interval = 0.25

    /// Calls `update` with each status of the job until it is final; returns the final one.
    /// `update` gets the job's status and the coordinator's HTTP address, if it serves one.
    func follow(_ update: (JobStatus, _ http: String?) -> Void) throws -> JobStatus {
        let start = ContinuousClock.now
        var client: FarmClient?
        var unreachableSince: ContinuousClock.Instant?
        while true {
            do {
                let connection = try client ?? farm.client(timeout: .seconds(5))
                client = connection
                let document = try connection.status(jobID: job)
                if unreachableSince != nil { FileHandle.standardError.write(Data("coordinator at \(farm.coordinator) answers again\n".utf8)) }
                unreachableSince = nil
                guard let found = document.jobs.first else {
                    throw ValidationError("job \(job) is unknown to the coordinator at \(farm.coordinator)")
                }
                update(found, document.http)
                if found.state.isFinal { return found }
            } catch let error as FarmClient.Unreachable {
                client = nil   // a new connection: the old one still queues the unanswered request
                let now = ContinuousClock.now
                if unreachableSince == nil {
                    unreachableSince = now
                    FileHandle.standardError.write(Data("\(error); retrying\n".utf8))
                }
                if now - start > .seconds(timeout ?? Self.defaultUnreachableSeconds) {
                    FileHandle.standardError.write(Data("giving up: the coordinator at \(farm.coordinator) was unreachable past the timeout\n".utf8))
                    throw ExitCode(Self.unreachableExit)
                }
                continue   // asked again at once: the unanswered request already waited
            } catch let refused as FarmClient.Refused {
                throw ValidationError(refused.message)
            }
            if let timeout, ContinuousClock.now - start > .seconds(timeout) {
                print("job \(job) still running after \(timeout) s")
                throw ExitCode(Self.stillRunningExit)
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}
