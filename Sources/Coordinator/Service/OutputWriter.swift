import Dispatch
import Foundation
import Protocol
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes result images on its own thread, so that the coordinator's loop never waits on the
/// disk. A result is recorded as done only once its file is complete at its path: each is
/// written to a temporary file beside it and renamed into place (a coordinator killed at any
/// instant leaves a whole file or none), and finished writes come back through
/// `takeFinished()`, waking the loop. Durability against a power cut is the job's: before a
/// job succeeds its folder is flushed to disk once (`flushFileSystem`) and every task's file
/// checked — one flush per job rather than one per result keeps thousands of results a second
/// possible (measured: a flush per batch of results cost 30–40 % of `bench farm`'s throughput).
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
    /// A job's own outputs (contact sheet, plots, losses.csv, job.json), written once its
    /// tasks are all done; never on the loop thread.
    private let jobQueue = DispatchQueue(label: "stylefarm.coordinator.job-outputs")
    private let pending = Mutex<(writes: [Write], scheduled: Bool)>(([], false))
    private let finished = Mutex<[Finished]>([])
    private let wakeup: ZMQWakeup

    init(wakeup: ZMQWakeup) {
        self.wakeup = wakeup
    }

    func enqueue(_ write: Write) {
        let schedule = pending.withLock { state -> Bool in
            state.writes.append(write)
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { queue.async { [self] in drain() } }
    }

    private func drain() {
        let batch = pending.withLock { state -> [Write] in
            defer { state.writes.removeAll(); state.scheduled = false }
            return state.writes
        }
        guard !batch.isEmpty else { return }
        var outcomes = batch.map { Finished(write: $0, error: nil) }
        var temporaries: [String?] = []
        for index in outcomes.indices {
            let write = outcomes[index].write
            let temporary = write.path + ".partial"
            do {
                let directory = (write.path as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try write.image.write(to: URL(fileURLWithPath: temporary))
                temporaries.append(temporary)
            } catch {
                outcomes[index].error = "could not write \(write.path): \(error)"
                temporaries.append(nil)
            }
        }
        for (index, temporary) in temporaries.enumerated() {
            guard let temporary else { continue }
            if rename(temporary, outcomes[index].write.path) != 0 {
                outcomes[index].error = "could not rename \(temporary): \(String(cString: strerror(errno)))"
            }
        }
        finished.withLock { $0.append(contentsOf: outcomes) }
        wakeup.signal()
    }

    /// One `syncfs(2)` for the file system `directory` is on: everything written there so far
    /// (a job's result files) is on disk when it returns.
    static func flushFileSystem(of directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = stylefarm_syncfs(fd)
    }

    /// Runs `produce` (which writes `write.path` itself, durably, and returns the summary to
    /// record) on its own queue, so that a long job such as stitching a tiled output never
    /// delays the result files; its outcome comes back through `takeFinished()` like a write's.
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

    /// Writes a finished job's own outputs off the loop (see `jobQueue`).
    func enqueueJobOutputs(_ work: @escaping @Sendable () -> Void) {
        jobQueue.async(execute: work)
    }

    /// Hands back writes whose records could not be committed, to be recorded with the next batch.
    func putBack(_ list: [Finished]) {
        guard !list.isEmpty else { return }
        finished.withLock { $0.insert(contentsOf: list, at: 0) }
        wakeup.signal()
    }

    /// Writes done since the last call, in the order they were enqueued.
    func takeFinished() -> [Finished] {
        finished.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    /// Waits until every enqueued write is done, and every job's outputs written.
    func flush() {
        // Not the stitching queue: a stitch cut short is left leased, and requeued on restart.
        queue.sync {}
        jobQueue.sync {}
    }
}

/// glibc's `syncfs(2)`, which the Glibc module does not import (it is a GNU extension).
@_silgen_name("syncfs")
private func stylefarm_syncfs(_ fd: Int32) -> Int32
