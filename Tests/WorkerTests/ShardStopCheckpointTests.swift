import Testing
import Protocol
@testable import Worker

/// A stopping shard's rounds: it asks once, saves with its gang, and leaves after the answer to
/// the checkpoint round; a shard that is not stopping saves when asked and goes on.
struct ShardStopCheckpointTests {
    @Test func aStoppingShardAsksOnceAndLeavesAfterTheCheckpointRoundsAnswer() {
        let stop = ShardStopCheckpoint()
        #expect(!stop.asks(step: 0, phase: .pixels), "nothing to ask before a stop")
        stop.stop()
        #expect(!stop.asks(step: 1, phase: .checkpoint), "never on a checkpoint round")
        #expect(stop.asks(step: 2, phase: .pixels))
        #expect(!stop.asks(step: 3, phase: .sums), "once")
        #expect(stop.answered(step: 2, phase: .pixels, checkpointRequested: true) == .goOn)
        #expect(stop.takeRequest() && !stop.takeRequest(), "the request is taken once, at the end of the iteration")
        #expect(stop.answered(step: 3, phase: .sums, checkpointRequested: false) == .goOn)
        guard case .stop(let reason) = stop.answered(step: 4, phase: .checkpoint, checkpointRequested: false) else {
            Issue.record("a stopping shard leaves after the checkpoint round's answer")
            return
        }
        #expect(reason.contains("checkpoint of step 4 is recorded"))
    }

    @Test func aStoppingShardWhoseRequestIsNotPassedOnLeavesAtOnce() {
        let stop = ShardStopCheckpoint()
        stop.stop()
        #expect(stop.asks(step: 5, phase: .gradients))
        guard case .stop(let reason) = stop.answered(step: 5, phase: .gradients, checkpointRequested: false) else {
            Issue.record("no checkpoint will come: the shard goes now")
            return
        }
        #expect(reason.contains("could not checkpoint first"))
    }

    @Test func aShardThatIsNotStoppingSavesWhenAskedAndGoesOn() {
        let stop = ShardStopCheckpoint()
        #expect(stop.answered(step: 7, phase: .sums, checkpointRequested: true) == .goOn)
        #expect(stop.takeRequest())
        #expect(stop.answered(step: 9, phase: .checkpoint, checkpointRequested: false) == .goOn, "its checkpoint round ends nothing")
        #expect(!stop.takeRequest())
    }
}
