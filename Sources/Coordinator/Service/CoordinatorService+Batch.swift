import Engine
import Foundation
import GRDB
import Logging
import Protocol

extension CoordinatorService {
    /// What a committed batch sends and writes once the transaction is durable.
    struct BatchEffects {
        var replies: [(peer: Data, message: Message)] = []
        /// Assignments: sent only after the commit, so no worker ever renders an attempt that a
        /// crash could roll back (and whose id a later attempt could then reuse).
        var assignments: [(peer: Data, assignment: TaskAssignment, key: String)] = []
        var finishedSweeps: [String] = []
        var finishedTiledJobs: [String] = []
        var stitches: [StitchJob] = []
    }

    /// Handles the frequent worker messages of a batch and then leases tasks to every worker
    /// with credit, all in one transaction; replies and assignments go out after the commit.
    /// Each message runs in its own savepoint: one that fails is answered with an error and
    /// undone alone, the rest of the batch stands.
    func commit(_ messages: [(peer: Data, message: Message)]) throws {
        for (peer, message) in messages {
            if case .ready(let ready) = message, workers[peer] != nil {
                workers[peer]?.credit = max(0, min(ready.credit, 64))
            }
        }
        let written = outputs.takeFinished()
        let wantWork = workers.values.contains { $0.credit > 0 }
        // A tile just recorded may complete a job's tiles; after a restart, stitches may wait.
        let checkStitches = !written.isEmpty || stitchesMayWait
        guard !messages.isEmpty || checkStitches || wantWork else { return }

        var effects = BatchEffects()
        try records.transaction { tx in
            for finished in written {
                do {
                    try tx.db.inSavepoint {
                        try record(finished, tx, &effects)
                        return .commit
                    }
                } catch {
                    logger.error("could not record a result", metadata: ["attempt.id": "\(finished.write.attemptID)", "error": "\(error)"])
                }
            }
            for (peer, message) in messages {
                do {
                    try tx.db.inSavepoint {
                        try handleFrequent(message, from: peer, tx, &effects)
                        return .commit
                    }
                } catch {
                    logger.notice("request failed", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
                    effects.replies.append((peer, .error(ErrorReply(code: "failed", message: "\(error)", inReplyTo: "\(message.kind)"))))
                }
            }
            if wantWork { try leaseTasks(tx, &effects) }
            if checkStitches { try startStitches(tx, &effects) }
        }
        stitchesMayWait = false
        send(effects)
    }

    private func handleFrequent(_ message: Message, from peer: Data, _ tx: FarmRecords.Transaction,
                                _ effects: inout BatchEffects) throws {
        guard workers[peer] != nil else {
            effects.replies.append((peer, .error(ErrorReply(code: Self.unknownWorker, message: "unknown worker: send hello first"))))
            return
        }
        switch message {
        case .progress(let progress):
            if try tx.recordProgress(attempt: progress.attemptID, lines: progress.lines) == .stale {
                logger.info("dropped progress of a stale attempt", metadata: ["attempt.id": "\(progress.attemptID)"])
            }
        case .result(let result):
            workers[peer]?.attempts.remove(result.attemptID)
            try accept(result, tx, &effects)
        case .failure(let failure):
            workers[peer]?.attempts.remove(failure.attemptID)
            let outcome = try tx.failAttempt(failure.attemptID, reason: failure.reason, retryable: failure.retryable)
            logger.notice("task failed", metadata: ["attempt.id": "\(failure.attemptID)", "reason": "\(failure.reason)", "outcome": "\(outcome)"])
        default:
            break   // ready (credit taken above), heartbeat (lastSeen updated on arrival)
        }
    }

    private func accept(_ result: TaskResult, _ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws {
        guard let output = try tx.outputOfAttempt(result.attemptID) else {
            logger.notice("dropped a result for an unknown attempt", metadata: ["attempt.id": "\(result.attemptID)"])
            return
        }
        guard try tx.isCurrent(result.attemptID) else {
            logger.notice("dropped a stale or duplicate result", metadata: ["attempt.id": "\(result.attemptID)"])
            return
        }
        // The file is written off this thread; the result is recorded once it is on disk
        // (`record`), so a crash in between only costs a re-render.
        outputs.enqueue(.init(attemptID: result.attemptID, jobID: output.jobID, key: output.key,
                              path: configuration.dataDirectory + "/jobs/" + output.jobID + "/" + output.outputName,
                              image: result.image, summary: try result.summary.jsonData()))
    }

    /// Records a result whose image is now on disk; a write that failed fails the attempt
    /// (retryable: another attempt may find the disk writable again).
    private func record(_ finished: OutputWriter.Finished, _ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws {
        let write = finished.write
        if let error = finished.error {
            let outcome = try tx.failAttempt(write.attemptID, reason: error, retryable: true)
            logger.error("could not store a result", metadata: ["attempt.id": "\(write.attemptID)", "error": "\(error)", "outcome": "\(outcome)"])
            return
        }
        guard try tx.completeAttempt(write.attemptID, result: write.summary, outputPath: write.path) == .accepted else {
            logger.notice("dropped a result that went stale while its file was written", metadata: ["attempt.id": "\(write.attemptID)"])
            return
        }
        logger.info("task done", metadata: ["job.id": "\(write.jobID)", "task.key": "\(write.key)"])
        if let job = try tx.jobState(write.jobID), job.state == "succeeded" {
            if job.kind == "sweep" { effects.finishedSweeps.append(write.jobID) }
            if job.kind == "tiled" { effects.finishedTiledJobs.append(write.jobID) }
        }
    }

    /// Leases runnable tasks to the workers with credit, in scheduling order, skipping jobs in
    /// which a worker has failed too often.
    private func leaseTasks(_ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws {
        var wanting = workers.filter { $0.value.credit > 0 }
        let blockedJobs = try tx.blockedJobs(threshold: configuration.failuresBeforeBlocking)
        try leaseGangs(tx, &effects, wanting: &wanting, blocked: blockedJobs)
        var candidates = try tx.runnableTasks(limit: wanting.values.reduce(0) { $0 + $1.credit })
        var sigmasOfJob: [String: [Float]?] = [:]
        func sigmas(ofJob job: String) throws -> [Float]? {
            if let known = sigmasOfJob[job] { return known }
            let found = try calibratedSigmas(ofJob: job, tx)
            sigmasOfJob[job] = .some(found)
            return found
        }
        for (peer, session) in wanting where !candidates.isEmpty {
            let blocked = blockedJobs[session.id] ?? []
            for _ in 0..<session.credit {
                guard let index = candidates.firstIndex(where: { !blocked.contains($0.jobID) }) else { break }
                let candidate = candidates.remove(at: index)
                let attemptID = try tx.recordAttempt(candidate, by: session.id)
                // The stored request goes out as it is, unless σ from a calibration must be set
                // (decoding and re-encoding it is most of what leasing a task costs).
                let settings: JSONValue
                if candidate.kind == PlannedTask.Kind.tile.rawValue {
                    settings = try resolvedOrder(candidate, tx)
                } else if candidate.kind == PlannedTask.Kind.render.rawValue, let sigmas = try sigmas(ofJob: candidate.jobID) {
                    var request = try JSONDecoder().decode(RenderRequest.self, from: candidate.request)
                    request.sigmas = sigmas
                    settings = try JSONValue(encoding: request)
                } else {
                    settings = try JSONValue(jsonData: candidate.request)
                }
                let assignment = TaskAssignment(taskID: String(candidate.taskID), attemptID: attemptID, jobID: candidate.jobID,
                                                settings: settings, inputs: Self.blobInputs(of: settings))
                effects.assignments.append((peer, assignment, candidate.key))
            }
        }
    }

    /// The `blob:` inputs a request names (content, then styles), by role.
    static func blobInputs(of settings: JSONValue) -> [String: SHA256Digest] {
        guard case .object(let fields) = settings else { return [:] }
        var paths: [String] = []
        if case .string(let content)? = fields["contentPath"] { paths.append(content) }
        if case .array(let styles)? = fields["stylePaths"] {
            for case .string(let style) in styles { paths.append(style) }
        }
        var inputs: [String: SHA256Digest] = [:]
        for (i, path) in paths.enumerated() where path.hasPrefix("blob:") {
            inputs[i == 0 ? "content" : "style\(i)"] = SHA256Digest(hex: String(path.dropFirst(5)))
        }
        return inputs
    }

    /// σ from the job's calibration task, when it has one (`--balance auto`).
    private func calibratedSigmas(ofJob job: String, _ tx: FarmRecords.Transaction) throws -> [Float]? {
        guard let calibration = try tx.result(ofTask: "calibrate", inJob: job) else { return nil }
        let summary = try JSONDecoder().decode(RenderSummary.self, from: calibration)
        return try Balancing.sigmas(relativeImprovements: summary.relativeImprovement)
    }

    /// After the commit: replies, assignments (an unreachable worker's attempt is marked lost
    /// and its task requeued), then the outputs of sweeps that just finished.
    private func send(_ effects: BatchEffects) {
        for (peer, message) in effects.replies { reply(message, to: peer) }
        for (peer, assignment, key) in effects.assignments {
            if reply(.assign(assignment), to: peer) {
                workers[peer]?.credit -= 1
                workers[peer]?.attempts.insert(assignment.attemptID)
                logger.info("task assigned", metadata: ["task.key": "\(key)", "worker.id": "\(workers[peer]?.id ?? "?")",
                                                        "attempt.id": "\(assignment.attemptID)"])
            } else {
                do {
                    _ = try records.failAttempt(assignment.attemptID, reason: "worker unreachable", retryable: true, outcome: "lost")
                } catch {
                    logger.error("could not requeue an undeliverable task", metadata: ["attempt.id": "\(assignment.attemptID)", "error": "\(error)"])
                }
            }
        }
        for stitch in effects.stitches { run(stitch) }
        for job in effects.finishedTiledJobs {
            do {
                try TiledJobOutputs.write(jobID: job, records: records, directory: jobDirectory(job))
            } catch {
                logger.error("could not write the job's outputs", metadata: ["job.id": "\(job)", "error": "\(error)"])
            }
        }
        for job in effects.finishedSweeps {
            do {
                try JobOutputs.write(jobID: job, records: records, directory: configuration.dataDirectory + "/jobs/" + job,
                                     blobRoot: blobs.root)
            } catch {
                logger.error("could not write the job's outputs", metadata: ["job.id": "\(job)", "error": "\(error)"])
            }
        }
    }
}
