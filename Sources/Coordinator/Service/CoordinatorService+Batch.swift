import Engine
import Foundation
import GRDB
import Logging
import Protocol
import Farm

extension CoordinatorService {
    /// What a committed batch sends and writes once the transaction is durable.
    struct BatchEffects {
        var replies: [(peer: Data, message: Message)] = []
        /// Assignments: sent only after the commit, so no worker ever renders an attempt that a
        /// crash could roll back (and whose id a later attempt could then reuse).
        var assignments: [(peer: Data, assignment: TaskAssignment, key: String)] = []
        /// Jobs whose last task is done: their own outputs are written next.
        var finishing: [(job: String, kind: String)] = []
        /// Jobs that failed, with the running attempts of theirs that were cancelled.
        var failedJobs: [(job: String, cancelled: [Int64])] = []
        var stitches: [StitchJob] = []
        /// Checkpoint blobs no record names any more, deleted once the batch is committed.
        var unneededBlobs: [String] = []

        /// Notes an attempt's end: a job it failed has its other running attempts stopped.
        mutating func note(_ outcome: FarmRecords.FailureOutcome) {
            if case .failedPermanently(let job, let cancelled) = outcome { failedJobs.append((job, cancelled)) }
        }
    }

    /// Handles the frequent worker messages of a batch, in arrival order, and then leases
    /// tasks to every worker with credit, all in one transaction; replies and assignments go
    /// out after the commit. Each message runs in its own savepoint: one that fails is answered
    /// with an error and undone alone, the rest of the batch stands.
    func commit(_ messages: [(peer: Data, message: Message)]) throws {
        let written = outputs.takeFinished()
        // A tile just recorded may complete a job's tiles; after a restart, stitches may wait.
        let checkStitches = !written.isEmpty || stitchesMayWait
        guard !messages.isEmpty || checkStitches || hasWorkerWanting else { return }

        var effects = BatchEffects()
        do {
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
                        effects.replies.append((peer, .error(ErrorReply(code: FarmErrorCode.failed.rawValue, message: "\(error)",
                                                                        inReplyTo: "\(message.kind)"))))
                    }
                }
                if hasWorkerWanting { try leaseTasks(tx, &effects) }
                if checkStitches { try startStitches(tx, &effects) }
            }
        } catch {
            // Files on disk whose records did not commit: record them with the next batch.
            outputs.putBack(written)
            throw error
        }
        stitchesMayWait = false
        send(effects)
    }

    /// Whether the session at `peer` holds `attempt`; if not, the message is refused and
    /// logged (a peer reporting on someone else's work).
    private func holds(_ attempt: Int64, _ session: WorkerSession, _ message: Message, peer: Data,
                       _ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws -> Bool {
        guard try tx.holder(ofAttempt: attempt) == session.id else {
            logger.notice("refused a message about another worker's attempt",
                          metadata: ["kind": "\(message.kind)", "attempt.id": "\(attempt)", "worker.id": "\(session.id)"])
            effects.replies.append((peer, .error(ErrorReply(code: FarmErrorCode.notYourAttempt.rawValue,
                                                            message: "attempt \(attempt) is not yours", inReplyTo: "\(message.kind)"))))
            return false
        }
        return true
    }

    private func handleFrequent(_ message: Message, from peer: Data, _ tx: FarmRecords.Transaction,
                                _ effects: inout BatchEffects) throws {
        guard let session = workers[peer] else {
            effects.replies.append((peer, Self.unknownWorkerError(replyingTo: message.kind)))
            return
        }
        switch message {
        case .ready(let ready):
            workers[peer]?.credit = try credit(from: ready, session: session, peer: peer, tx, &effects)
            slotWaits.credited(session.id, credit: workers[peer]?.credit ?? 0, now: clock.now)
        case .progress(let progress):
            // A preview is fenced exactly as its lines are: only the attempt's holder, only while it runs.
            guard try holds(progress.attemptID, session, message, peer: peer, tx, &effects) else {
                if progress.preview != nil { previewStore.noteDropped() }
                return
            }
            if try tx.recordProgress(attempt: progress.attemptID, lines: progress.lines) == .stale {
                logger.info("dropped progress of a stale attempt", metadata: ["attempt.id": "\(progress.attemptID)"])
                if progress.preview != nil { previewStore.noteDropped() }
            } else if let preview = progress.preview, let last = progress.lines.last {
                previewStore.update(progress.attemptID, preview: preview, iteration: last.iteration, iterations: progress.iterations)
            }
        case .result(let result):
            guard try holds(result.attemptID, session, message, peer: peer, tx, &effects) else { return }
            workers[peer]?.attempts.remove(result.attemptID)
            previewStore.ended([result.attemptID])
            try accept(result, tx, &effects)
        case .failure(let failure):
            guard try holds(failure.attemptID, session, message, peer: peer, tx, &effects) else { return }
            workers[peer]?.attempts.remove(failure.attemptID)
            previewStore.ended([failure.attemptID])
            let end: FarmRecords.AttemptEnd = failure.handBack == true ? .lost(.handedBack) : .failed(retryable: failure.retryable)
            let outcome = try tx.endAttempt(failure.attemptID, end, reason: String(failure.reason.prefix(2000)))
            effects.note(outcome)
            if case .failed = end, outcome != .stale { try blockIfFailingTooOften(failure.attemptID, tx) }
            logger.notice("task failed", metadata: ["attempt.id": "\(failure.attemptID)", "reason": "\(failure.reason.prefix(200))",
                                                    "outcome": "\(outcome)"])
        default:
            break   // heartbeat (lastSeen updated on arrival)
        }
    }

    /// A worker's `ready` says how many slots it has free, which attempts it holds and the
    /// last assignment it has seen; the credit is what is free minus the assignments still on
    /// their way to it. Repeating a `ready` (a worker that rejoins, a duplicate) therefore never
    /// hands out a task twice. An attempt the worker has seen but no longer holds, without a
    /// result or failure having arrived, is lost (its message went astray) and requeued.
    private func credit(from ready: Ready, session: WorkerSession, peer: Data, _ tx: FarmRecords.Transaction,
                        _ effects: inout BatchEffects) throws -> Int {
        var credit = ready.credit
        if let last = ready.lastAssignment {
            let held = Set(ready.holding ?? [])
            for attempt in session.attempts where attempt <= last && !held.contains(attempt) {
                workers[peer]?.attempts.remove(attempt)
                effects.note(try tx.endAttempt(attempt, .lost(.handedBack), reason: "its worker no longer holds it"))
            }
            credit -= session.attempts.filter { $0 > last }.count
        } else {
            credit -= session.attempts.count
        }
        return max(0, min(credit, 64))
    }

    private func accept(_ result: TaskResult, _ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws {
        guard let output = try tx.outputOfAttempt(result.attemptID) else {
            logger.notice("dropped a result for an unknown attempt", metadata: ["attempt.id": "\(result.attemptID)"])
            return
        }
        // A result the coordinator cannot use (a summary σ cannot come from, an image that is
        // not a PNG) fails its attempt instead of being recorded for later steps to trip on.
        if let problem = Self.problem(with: result, kind: output.kind) {
            let outcome = try tx.endAttempt(result.attemptID, .failed(retryable: true), reason: "unusable result: \(problem)")
            effects.note(outcome)
            if outcome != .stale { try blockIfFailingTooOften(result.attemptID, tx) }
            logger.notice("refused an unusable result", metadata: ["attempt.id": "\(result.attemptID)", "problem": "\(problem)",
                                                                   "outcome": "\(outcome)"])
            return
        }
        // Received before anything else can make it stale: from here only a coordinator
        // restart (before the file is recorded) can undo it.
        guard try tx.markReceived(result.attemptID) == .accepted else {
            logger.notice("dropped a stale or duplicate result", metadata: ["attempt.id": "\(result.attemptID)"])
            return
        }
        // The file is written off this thread; the result is recorded once it is on disk
        // (`record`), so a crash in between only costs a re-render.
        outputs.enqueue(.init(attemptID: result.attemptID, jobID: output.jobID, key: output.key,
                              path: configuration.dataDirectory + "/jobs/" + output.jobID + "/" + output.outputName,
                              image: result.image, summary: try result.summary.jsonData()))
    }

    /// What is wrong with a result, if anything: its payload must be what the task makes (a PNG
    /// within the pixel limit, or a style-targets file) and a calibration's summary must give σ.
    static func problem(with result: TaskResult, kind: String) -> String? {
        let payload = [UInt8](result.image)
        switch PlannedTask.Kind(rawValue: kind) {
        case .styleTargets?:
            if payload.isEmpty { return "an empty style-targets file" }
        default:
            do {
                _ = try ImageHeader.read(payload, name: "result", maxPixels: ImageLimits.defaultMaxPixels)
            } catch {
                return "\(error)"
            }
        }
        guard case .object = result.summary else { return "its summary is not an object" }
        if kind == PlannedTask.Kind.calibrate.rawValue {
            do {
                let summary = try JSONDecoder().decode(RenderSummary.self, from: try result.summary.jsonData())
                _ = try Balancing.sigmas(relativeImprovements: summary.relativeImprovement)
            } catch {
                return "a calibration whose summary gives no σ (\(String("\(error)".prefix(200))))"
            }
        }
        return nil
    }

    /// Records a result whose image is now on disk; a write that failed fails the attempt
    /// (retryable: another attempt may find the disk writable again).
    private func record(_ finished: OutputWriter.Finished, _ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws {
        let write = finished.write
        if let error = finished.error {
            let outcome = try tx.endAttempt(write.attemptID, .failed(retryable: true), reason: error)
            effects.note(outcome)
            logger.error("could not store a result", metadata: ["attempt.id": "\(write.attemptID)", "error": "\(error)", "outcome": "\(outcome)"])
            return
        }
        guard try tx.completeAttempt(write.attemptID, result: write.summary, outputPath: write.path) == .accepted else {
            logger.notice("dropped a result that went stale while its file was written", metadata: ["attempt.id": "\(write.attemptID)"])
            return
        }
        logger.info("task done", metadata: ["job.id": "\(write.jobID)", "task.key": "\(write.key)"])
        if let job = try tx.jobState(write.jobID), job.state == .finishing {
            effects.finishing.append((write.jobID, job.kind))
        }
    }

    /// Whether a worker has free slots and is not drained: only then is there leasing to do.
    private var hasWorkerWanting: Bool { workers.values.contains { $0.credit > 0 && !drained.contains($0.name) } }

    /// A worker whose failed attempts in a job reach `failuresBeforeBlocking` is blocked for
    /// the job (in this transaction, so the same batch's leases already skip it).
    private func blockIfFailingTooOften(_ attempt: Int64, _ tx: FarmRecords.Transaction) throws {
        guard let block = try tx.blockAfterFailure(of: attempt, threshold: configuration.failuresBeforeBlocking) else { return }
        logger.notice("worker blocked for a job", metadata: ["job.id": "\(block.jobID)", "worker.name": "\(block.worker)",
                                                            "reason": "\(block.reason)"])
    }

    /// Leases runnable tasks to the workers with credit, in scheduling order, skipping drained
    /// workers and the jobs a worker is blocked for. A task that cannot be prepared (its job's
    /// calibration result is unusable, say) fails its job; the batch goes on.
    private func leaseTasks(_ tx: FarmRecords.Transaction, _ effects: inout BatchEffects) throws {
        // A drained worker keeps its credit (it is still connected and finishing its work); it
        // is simply never offered anything.
        let credited = workers.filter { $0.value.credit > 0 && !drained.contains($0.value.name) }
        let assignedBefore = effects.assignments.count
        var wanting = credited
        let blockedJobs = try tx.blockedJobsByWorkerName()
        let reservation = try leaseGangs(tx, &effects, wanting: &wanting, blocked: blockedJobs)
        // More candidates than slots: a task that fits no idle worker (too large, a kind it does
        // not run) must not hide the ones that do.
        let slots = wanting.values.reduce(0) { $0 + $1.credit } + (reservation?.workers.values.reduce(0) { $0 + $1.credit } ?? 0)
        var candidates = try tx.runnableTasks(limit: slots * 4 + 16)
        var priorityOfJob: [String: Int] = [:]
        func outranksReservation(_ candidate: FarmRecords.Transaction.Candidate) throws -> Bool {
            guard let reservation else { return true }
            if priorityOfJob[candidate.jobID] == nil { priorityOfJob[candidate.jobID] = try tx.priority(ofJob: candidate.jobID) ?? 0 }
            return (priorityOfJob[candidate.jobID] ?? 0) > reservation.priority
        }
        var sigmasOfJob: [String: [Float]?] = [:]
        func sigmas(ofJob job: String) throws -> [Float]? {
            if let known = sigmasOfJob[job] { return known }
            let found = try calibratedSigmas(ofJob: job, tx)
            sigmasOfJob[job] = .some(found)
            return found
        }
        // Workers held for a waiting gang take only tasks of jobs that outrank it.
        let offers = wanting.map { ($0.key, $0.value, false) } + (reservation?.workers.map { ($0.key, $0.value, true) } ?? [])
        for (peer, session, held) in offers where !candidates.isEmpty {
            let blocked = blockedJobs[session.name] ?? []
            var leased = 0
            while leased < session.credit {
                guard let index = try candidates.firstIndex(where: {
                    try !blocked.contains($0.jobID) && session.canRun(kind: $0.kind, pixels: $0.pixels) && (!held || outranksReservation($0))
                })
                else { break }
                let candidate = candidates.remove(at: index)
                // The stored request goes out as it is, unless σ from a calibration must be set
                // (decoding and re-encoding it is most of what leasing a task costs).
                let settings: JSONValue
                do {
                    if candidate.kind == PlannedTask.Kind.tile.rawValue {
                        settings = try resolvedOrder(candidate, tx)
                    } else if candidate.kind == PlannedTask.Kind.render.rawValue, let sigmas = try sigmas(ofJob: candidate.jobID) {
                        var request = try JSONDecoder().decode(RenderRequest.self, from: candidate.request)
                        request.sigmas = sigmas
                        settings = try JSONValue(encoding: request)
                    } else {
                        settings = try JSONValue(jsonData: candidate.request)
                    }
                } catch {
                    let reason = "task \(candidate.key) cannot be prepared: \(error)"
                    logger.error("job failed", metadata: ["job.id": "\(candidate.jobID)", "reason": "\(reason)"])
                    effects.failedJobs.append((candidate.jobID, try tx.failJob(candidate.jobID, failedTask: candidate.taskID, reason: reason)))
                    candidates.removeAll { $0.jobID == candidate.jobID }
                    continue
                }
                let attemptID = try tx.recordAttempt(candidate, by: session.id)
                let assignment = TaskAssignment(taskID: String(candidate.taskID), attemptID: attemptID, jobID: candidate.jobID,
                                                settings: settings, inputs: Self.blobInputs(of: settings))
                effects.assignments.append((peer, assignment, candidate.key))
                leased += 1
            }
        }
        noteDispatch(credited: credited, assignments: effects.assignments[assignedBefore...].map(\.peer))
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
        for (i, path) in paths.enumerated() {
            guard let blob = BlobReference(path) else { continue }
            inputs[i == 0 ? "content" : "style\(i)"] = SHA256Digest(hex: blob.sha256)
        }
        // An exact shard's checkpoint to resume from (the worker fetches every input of the order).
        if case .string(let resume)? = fields["resumePath"], let blob = BlobReference(resume) {
            inputs["resume"] = SHA256Digest(hex: blob.sha256)
        }
        return inputs
    }

    /// σ from the job's calibration task, when it has one (`--balance auto`). Throws when the
    /// calibration's result cannot give σ (the job then fails with the reason).
    private func calibratedSigmas(ofJob job: String, _ tx: FarmRecords.Transaction) throws -> [Float]? {
        guard let calibration = try tx.result(ofTask: "calibrate", inJob: job) else { return nil }
        let summary = try JSONDecoder().decode(RenderSummary.self, from: calibration)
        return try Balancing.sigmas(relativeImprovements: summary.relativeImprovement)
    }

    /// After the commit: replies, assignments (one that cannot be delivered is not an attempt:
    /// its task goes straight back to the queue and the unreachable worker's session ends),
    /// cancels for failed jobs, stitches, and the outputs of jobs that just finished.
    private func send(_ effects: BatchEffects) {
        for (peer, message) in effects.replies { reply(message, to: peer) }
        for (peer, assignment, key) in effects.assignments {
            if reply(.assign(assignment), to: peer) == .sent {
                workers[peer]?.credit -= 1
                workers[peer]?.attempts.insert(assignment.attemptID)
                previewStore.assigned(assignment.attemptID, job: assignment.jobID, key: key)
                logger.info("task assigned", metadata: ["task.key": "\(key)", "worker.id": "\(workers[peer]?.id ?? "?")",
                                                        "attempt.id": "\(assignment.attemptID)"])
            } else {
                workers[peer]?.credit = 0
                do {
                    _ = try records.endAttempt(assignment.attemptID, .undelivered, reason: "worker unreachable")
                } catch {
                    logger.error("could not requeue an undeliverable task", metadata: ["attempt.id": "\(assignment.attemptID)", "error": "\(error)"])
                }
                if let job = gangs.first(where: { $0.value.members[assignment.attemptID] != nil })?.key {
                    abortGang(job, reason: "a shard could not be delivered", retryable: true)
                }
            }
        }
        checkpoints.remove(effects.unneededBlobs)
        for (job, cancelled) in effects.failedJobs { jobEnded(job, cancelled: cancelled) }
        for stitch in effects.stitches { run(stitch) }
        for (job, kind) in effects.finishing { finish(job, kind: kind) }
        do { try endUnreachableSessions() } catch { logger.error("could not end unreachable sessions", metadata: ["error": "\(error)"]) }
    }

    /// Writes a job's own outputs off the loop; the job succeeds once they are on disk. A
    /// coordinator killed before that finds the job `finishing` and calls this again.
    func finish(_ job: String, kind: String) {
        let records = records, logger = logger, directory = jobDirectory(job), blobRoot = blobs.root, checkpoints = checkpoints
        let weights = configuration.weights?.offer.sha256.hex
        outputs.enqueueJobOutputs {
            do {
                // The result files are on disk before the job can succeed: one flush for the
                // whole job, then each task's file checked (a file lost with a power cut is
                // rendered again rather than missing from a succeeded job).
                OutputWriter.flushFileSystem(of: directory)
                let missing = try records.finishedTasks(ofJob: job).filter { task in
                    guard let path = task.outputPath else { return false }
                    let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
                    return (size ?? 0) == 0
                }.map(\.key)
                if !missing.isEmpty {
                    try records.reopenTasks(ofJob: job, keys: missing, reason: "its output file was missing when the job finished")
                    logger.error("results missing on disk; rendering them again", metadata: ["job.id": "\(job)", "tasks": "\(missing)"])
                    return
                }
                switch kind {
                case "tiled": try TiledJobOutputs.write(jobID: job, records: records, directory: directory, weightsSHA256: weights)
                case "sweep": try JobOutputs.write(jobID: job, records: records, directory: directory, blobRoot: blobRoot, weightsSHA256: weights)
                default: break   // `bench farm`'s job has no outputs of its own
                }
                try records.jobOutputsWritten(job)
                logger.info("job succeeded", metadata: ["job.id": "\(job)"])
                // Nothing resumes a job that succeeded: its checkpoints (exact jobs) go.
                checkpoints.remove(try records.transaction { try $0.dropCheckpoints(ofJob: job) })
            } catch {
                logger.error("could not write the job's outputs", metadata: ["job.id": "\(job)", "error": "\(error)"])
                try? records.jobOutputsFailed(job, reason: "\(error)")
            }
        }
    }
}
