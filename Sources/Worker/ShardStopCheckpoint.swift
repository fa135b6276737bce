import Protocol
import Synchronization

/// One exact shard task's part in a checkpoint on stop. A worker asked to stop while it runs a
/// shard does not drop it at once: that would cost its whole gang every iteration since the
/// last periodic checkpoint. It puts `checkpointRequested` on its next round; the coordinator
/// puts it on that round's answer to every shard, each saves a checkpoint at the end of the
/// iteration, and the stopping worker ends its task once the answer to that checkpoint round
/// (sent only after every shard's is recorded) is in. The gang then resumes from it elsewhere.
///
/// The socket's thread calls `stop()`; the render thread calls the rest, round by round.
final class ShardStopCheckpoint: Sendable {
    private struct State {
        /// This worker is stopping and waits for a checkpoint before it hands the shard back.
        var stopping = false
        /// The step of the round that carried this worker's request.
        var askedAt: Int?
        /// An answer asked for a checkpoint that the shard has not been told of yet.
        var pending = false
    }

    /// What the render thread does after an answer.
    enum AfterAnswer: Equatable {
        case goOn
        /// End the task now, with this reason (the shard is handed back).
        case stop(String)
    }

    private let state = Mutex(State())

    /// The worker is stopping: ask the gang for a checkpoint with the next round.
    func stop() { state.withLock { $0.stopping = true } }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Whether the round about to be sent carries the request: once, and never a checkpoint
    /// round (that one's answer ends the task anyway).
    func asks(step: Int, phase: ExchangePhase) -> Bool {
        state.withLock { state in
            guard state.stopping, state.askedAt == nil, phase != .checkpoint else { return false }
            state.askedAt = step
            return true
        }
    }

    /// Notes an answer: a request it carries is kept for `takeRequest()`. A stopping worker
    /// ends its task after the answer to a checkpoint round (the gang's state is recorded by
    /// then), or at once when the answer to its own request did not carry it (a gang member
    /// that predates the request: no checkpoint will come).
    func answered(step: Int, phase: ExchangePhase, checkpointRequested: Bool) -> AfterAnswer {
        state.withLock { state in
            if checkpointRequested { state.pending = true }
            guard state.stopping else { return .goOn }
            if phase == .checkpoint { return .stop("worker shutting down; the gang's checkpoint of step \(step) is recorded") }
            if state.askedAt == step, !checkpointRequested {
                return .stop("worker shutting down; its gang could not checkpoint first (a member predates checkpoints on stop)")
            }
            return .goOn
        }
    }

    /// For `ExactShardRun`, at the end of each iteration: whether an answer since the last call
    /// asked for a checkpoint. Every shard of the gang saw the same answers by then.
    func takeRequest() -> Bool {
        state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
    }
}
