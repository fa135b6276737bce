import Dispatch
import Foundation
import Protocol
import Synchronization

/// Writes result images on its own thread, so that the coordinator's loop never waits on the
/// disk (creating a file costs more than everything else a result needs). A result is
/// recorded as done only once its file is written: the writer hands each finished write back
/// through `takeFinished()` and wakes the loop.
final class OutputWriter: Sendable {
    struct Write: Sendable {
        var attemptID: Int64
        var jobID: String
        var key: String
        var path: String
        var image: Data
        /// The render summary to record with the result.
        var summary: Data
    }

    struct Finished: Sendable {
        var write: Write
        /// Why the file could not be written, if it could not.
        var error: String?
    }

    private let queue = DispatchQueue(label: "stylefarm.coordinator.outputs")
    private let longQueue = DispatchQueue(label: "stylefarm.coordinator.stitching")
    private let finished = Mutex<[Finished]>([])
    private let wakeup: ZMQWakeup

    init(wakeup: ZMQWakeup) {
        self.wakeup = wakeup
    }

    func enqueue(_ write: Write) {
        queue.async { [self] in
            var outcome = Finished(write: write, error: nil)
            do {
                let directory = (write.path as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                // No temporary file and rename: until the result is recorded, no record points
                // at this path, and a later attempt of the task overwrites whatever is there.
                try write.image.write(to: URL(fileURLWithPath: write.path))
            } catch {
                outcome.error = "could not write \(write.path): \(error)"
            }
            self.finished.withLock { $0.append(outcome) }
            self.wakeup.signal()
        }
    }

    /// Runs `produce` (which writes `write.path` itself and returns the summary to record) on
    /// its own queue, so that a long job such as stitching a tiled output never delays the
    /// result files; its outcome comes back through `takeFinished()` like a write's.
    func enqueue(_ write: Write, producing produce: @escaping @Sendable () throws -> Data) {
        longQueue.async { [self] in
            var outcome = Finished(write: write, error: nil)
            do {
                outcome.write.summary = try produce()
            } catch {
                outcome.error = "could not produce \(write.path): \(error)"
            }
            self.finished.withLock { $0.append(outcome) }
            self.wakeup.signal()
        }
    }

    /// Writes done since the last call, in the order they were enqueued.
    func takeFinished() -> [Finished] {
        finished.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    /// Waits until every enqueued write is done.
    func flush() {
        // Not the stitching queue: a stitch cut short is left leased, and requeued on restart.
        queue.sync {}
    }
}
