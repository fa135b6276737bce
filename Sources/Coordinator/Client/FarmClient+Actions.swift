public import Farm
import Engine
import Protocol

extension FarmClient {
    /// Asks the coordinator to perform an operator action; returns what it did, or throws
    /// `Refused` with the coordinator's reason (unknown job or worker, a finished job…).
    public func perform(_ action: FarmAction) throws -> FarmActionOutcome {
        if let problem = action.problem { throw Refused(code: FarmErrorCode.invalidRequest.rawValue, message: problem) }
        let request: Message = switch action {
        case .cancel(let job): .cancelJob(CancelJob(jobID: job))
        case .setPriority(let job, let priority): .setPriority(SetJobPriority(jobID: job, priority: priority))
        case .block(let job, let worker): .blockWorker(BlockWorker(jobID: job, worker: worker, blocked: true))
        case .unblock(let job, let worker): .blockWorker(BlockWorker(jobID: job, worker: worker, blocked: false))
        case .drain(let worker): .drainWorker(DrainWorker(worker: worker, drain: true))
        case .undrain(let worker): .drainWorker(DrainWorker(worker: worker, drain: false))
        }
        switch try self.request(request) {
        case .cancelled(let cancelled):
            return FarmActionOutcome(action: action.name, job: cancelled.jobID, changed: true, message: "job \(cancelled.jobID) cancelled")
        case .actionDone(let done):
            return FarmActionOutcome(action: done.action, job: done.jobID, worker: done.worker, priority: done.priority,
                                     changed: done.changed, message: done.message)
        case let other:
            throw EngineError(.io, "unexpected answer to '\(request.kind)': \(other.kind)")
        }
    }
}
