import Engine
import Foundation
import Logging
import Protocol
import Synchronization
import Dispatch
import Farm

/// An exact shard's rounds, from its render thread through the socket's thread, and the
/// checkpoint its gang takes when this worker is stopped during one (`ShardStopCheckpoint`).
extension WorkerService {
    /// Sends a shard's round through the main thread's socket and waits for the coordinator's
    /// answer (or a cancel: a shard of an aborted job must not wait for ever). A stopping
    /// worker's round asks for a checkpoint, and an answer may end the task (`stop`).
    func exchange(_ round: TileTaskRenderer.ExchangeRound, _ bytes: [UInt8], for assignment: TaskAssignment,
                  cancel: CancelFlag, stop: ShardStopCheckpoint) throws -> [UInt8] {
        guard let phase = ExchangePhase(rawValue: round.phase.rawValue) else {
            throw EngineError(.failed, "unknown exchange phase \(round.phase.rawValue)")
        }
        let asks = stop.asks(step: round.step, phase: phase)
        if asks { logger.notice("stopping: asking the shard's gang for a checkpoint", metadata: ["step": "\(round.step)"]) }
        let message = Message.exchange(ShardExchange(taskID: assignment.taskID, attemptID: assignment.attemptID,
                                                     step: round.step, phase: phase, bytes: Data(bytes),
                                                     checkpointRequested: asks ? true : nil))
        enqueue(Outgoing(attemptID: assignment.attemptID, message: message, finished: false))
        while true {
            let reply = exchangeReplies.withLock { replies -> ShardExchangeReply? in
                guard let index = replies.firstIndex(where: {
                    $0.attemptID == assignment.attemptID && $0.step == round.step && $0.phase == phase
                }) else { return nil }
                return replies.remove(at: index)
            }
            if let reply {
                switch stop.answered(step: round.step, phase: phase, checkpointRequested: reply.checkpointRequested == true) {
                case .goOn: return [UInt8](reply.bytes)
                case .stop(let reason): throw EngineError(.cancelled, reason)
                }
            }
            if cancel.isSet { throw EngineError(.cancelled, "cancelled while waiting for the other shards") }
            _ = exchangeArrived.wait(timeout: .now() + .milliseconds(50))
        }
    }

    /// On a stop, for the socket's thread: when this worker runs an exact shard and its
    /// coordinator takes the request, asks the gang for a checkpoint and returns how long to
    /// wait for it; nil when the worker should hand its task back now, as it always did.
    func askForStopCheckpoint() -> ContinuousClock.Instant? {
        guard let task = active, task.started, case .shard = task.order, checkpointsOnStop,
              configuration.stopCheckpointGrace > .zero else { return nil }
        task.stopCheckpoint.stop()
        logger.notice("stopping after the gang's checkpoint", metadata: ["attempt.id": "\(task.assignment.attemptID)",
                                                                         "grace": "\(configuration.stopCheckpointGrace)"])
        return clock.now + configuration.stopCheckpointGrace
    }
}
