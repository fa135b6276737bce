import Farm
import Synchronization

/// Actions handed to the coordinator's loop from other threads (the HTTP server): a bounded
/// queue behind a mutex, which the loop empties each turn, resuming each caller with the
/// outcome. Posting never blocks either side; a full queue or a stopped loop refuses at once.
final class ActionMailbox: Sendable {
    struct Letter: Sendable {
        var action: FarmAction
        var requester: String
        var reply: CheckedContinuation<FarmActionOutcome, any Error>
    }

    private struct State {
        var letters: [Letter] = []
        var closed = false
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Queues a letter; on refusal its continuation is resumed here with the reason.
    /// Returns whether it was queued (and the loop should be woken).
    func post(_ letter: Letter) -> Bool {
        let refusal: FarmActionError? = state.withLock { state in
            if state.closed { return FarmActionError(.stopped, "the coordinator is stopping") }
            if state.letters.count >= capacity {
                return FarmActionError(.busy, "the coordinator has \(capacity) actions waiting; try again shortly")
            }
            state.letters.append(letter)
            return nil
        }
        if let refusal { letter.reply.resume(throwing: refusal) }
        return refusal == nil
    }

    /// Everything queued, for the loop.
    func take() -> [Letter] {
        state.withLock { state in
            defer { state.letters.removeAll() }
            return state.letters
        }
    }

    /// Refuses every letter still queued, and any posted later (the loop has stopped).
    func close() {
        let left = state.withLock { state in
            state.closed = true
            defer { state.letters.removeAll() }
            return state.letters
        }
        for letter in left { letter.reply.resume(throwing: FarmActionError(.stopped, "the coordinator stopped before acting")) }
    }
}
