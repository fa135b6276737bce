public import Farm
import Foundation
import Logging
import Protocol

/// Operator actions: cancel a job, change its priority, block a worker for it, drain a worker.
/// One implementation each (`execute`), run on the loop — cancelling must tell workers to stop,
/// which only the thread that owns the socket may do. ZeroMQ clients reach it from `dispatch`;
/// other threads (the HTTP server) through `perform`, which hands the action to the loop.
extension CoordinatorService {
    /// Performs `action` on the coordinator's loop and returns what it did. Safe from any
    /// thread; never blocks the loop (the action waits in a bounded mailbox for the loop's next
    /// turn). `requester` is recorded with blocks and drains. Throws `FarmActionError`.
    public func perform(_ action: FarmAction, by requester: String = "http") async throws -> FarmActionOutcome {
        if let problem = action.problem { throw FarmActionError(.invalid, problem) }
        return try await withCheckedThrowingContinuation { continuation in
            if mailbox.post(.init(action: action, requester: requester, reply: continuation)) { outputWakeup.signal() }
        }
    }

    /// Runs the actions other threads posted (called by the loop each turn).
    func performPostedActions() {
        for letter in mailbox.take() {
            do {
                letter.reply.resume(returning: try execute(letter.action, by: letter.requester))
            } catch {
                letter.reply.resume(throwing: error)
            }
        }
    }

    /// Does `action` (on the loop), or throws why not.
    func execute(_ action: FarmAction, by requester: String) throws(FarmActionError) -> FarmActionOutcome {
        if let problem = action.problem { throw FarmActionError(.invalid, problem) }
        do {
            let outcome = try act(action, by: requester)
            logger.info("operator action", metadata: ["action": "\(action.name)", "job.id": "\(outcome.job ?? "")",
                                                      "worker.name": "\(outcome.worker ?? "")", "by": "\(requester.prefix(80))",
                                                      "changed": "\(outcome.changed)"])
            return outcome
        } catch let error as FarmActionError {
            throw error
        } catch {
            logger.error("operator action failed", metadata: ["action": "\(action.name)", "error": "\(error)"])
            throw FarmActionError(.failed, "the coordinator could not record the \(action.name)", cause: "\(error)")
        }
    }

    private func act(_ action: FarmAction, by requester: String) throws -> FarmActionOutcome {
        switch action {
        case .cancel(let job):
            guard let running = try records.cancelJob(job) else { throw try finishedOrUnknown(job, "cancelled") }
            gangs.removeValue(forKey: job)
            stopAttempts(running)
            return FarmActionOutcome(action: action.name, job: job, changed: true,
                                     message: "job \(job) cancelled; \(running.count) running task(s) told to stop")
        case .setPriority(let job, let priority):
            guard let old = try records.setPriority(ofJob: job, to: priority) else { throw try finishedOrUnknown(job, "reprioritised") }
            return FarmActionOutcome(action: action.name, job: job, priority: priority, changed: old != priority,
                                     message: "job \(job) has priority \(priority) (was \(old)); it counts from the next lease")
        case .block(let job, let worker):
            let name = try knownWorker(worker)
            guard try records.job(job) != nil else { throw FarmActionError(.unknownJob, "no job \(job)") }
            guard try records.job(job)?.state.isActive == true else { throw try finishedOrUnknown(job, "blocked for") }
            // Its running attempt of the job, if any, is left to finish: the block is about
            // what it gets next, and a render that is under way is most likely to succeed
            // (an operator who wants it stopped cancels the job, or drains and restarts the
            // worker). Gangs already running keep their members for the same reason.
            let changed = try records.block(worker: name, job: job, reason: "blocked by \(requester)", by: requester)
            return FarmActionOutcome(action: action.name, job: job, worker: name, changed: changed,
                                     message: changed ? "\(name) gets no more tasks of job \(job)" : "\(name) was already blocked for job \(job)")
        case .unblock(let job, let worker):
            let name = try knownWorker(worker)
            guard try records.job(job) != nil else { throw FarmActionError(.unknownJob, "no job \(job)") }
            let changed = try records.unblock(worker: name, job: job)
            return FarmActionOutcome(action: action.name, job: job, worker: name, changed: changed,
                                     message: changed ? "\(name) may run tasks of job \(job) again" : "\(name) was not blocked for job \(job)")
        case .drain(let worker), .undrain(let worker):
            let name = try knownWorker(worker)
            let drain = if case .drain = action { true } else { false }
            let changed = try records.setDrained(worker: name, drain, by: requester)
            if drain { drained.insert(name) } else { drained.remove(name) }
            let message = drain ? (changed ? "\(name) finishes its current tasks and gets no new ones" : "\(name) was already draining")
                                : (changed ? "\(name) gets tasks again" : "\(name) was not draining")
            return FarmActionOutcome(action: action.name, worker: name, changed: changed, message: message)
        }
    }

    /// The refusal for a job that cannot be acted on: unknown (404), or finished (409).
    private func finishedOrUnknown(_ job: String, _ verb: String) throws -> FarmActionError {
        guard let state = try records.job(job)?.state else { return FarmActionError(.unknownJob, "no job \(job)") }
        return FarmActionError(.conflict, "job \(job) is \(state.rawValue) and cannot be \(verb)")
    }

    /// The name of the worker `worker` names: a connected session's id or name, else one the
    /// records know.
    private func knownWorker(_ worker: String) throws -> String {
        if let session = workers.values.first(where: { $0.id == worker || $0.name == worker }) { return session.name }
        guard let name = try records.workerName(matching: worker) else {
            throw FarmActionError(.unknownWorker, "no worker \(worker.prefix(80)) (give its name, as `stylefarm workers` lists it, or its session id)")
        }
        return name
    }

    /// A ZeroMQ client's action: the same `execute`, answered with `actionDone` (or, for
    /// `cancelJob`, `cancelled`, which clients have always read) or an `error`.
    func dispatchAction(_ action: FarmAction, from peer: Data, key: String?, kind: MessageKind) {
        do throws(FarmActionError) {
            let outcome = try execute(action, by: key ?? "cli")
            if case .cancel(let job) = action {
                reply(.cancelled(JobCancelled(jobID: job)), to: peer)
            } else {
                reply(.actionDone(ActionDone(action: outcome.action, jobID: outcome.job, worker: outcome.worker, priority: outcome.priority,
                                             changed: outcome.changed, message: outcome.message)), to: peer)
            }
        } catch {
            reply(.error(ErrorReply(code: error.wireCode.rawValue, message: error.message, inReplyTo: "\(kind)")), to: peer)
        }
    }
}

extension FarmActionError {
    /// The code an `error` reply carries for this refusal.
    var wireCode: FarmErrorCode {
        switch code {
        case .invalid: .invalidRequest
        case .unknownJob: .unknownJob
        case .unknownWorker: .unknownWorkerName
        case .conflict: .conflict
        case .busy, .stopped, .failed: .failed
        }
    }
}
