import CoreMetrics
import Engine
import Foundation
import Logging
import Protocol
import Farm

/// Exact tiled jobs: their shards run as a gang, leased together to distinct workers, and the
/// coordinator relays their exchange rounds (sums added up, edge pixels passed on). A gang
/// lives only in memory: if any member's attempt ends badly (its worker is lost, it fails),
/// the others are cancelled and every shard is requeued, to start again together — from the
/// job's latest complete checkpoint when it has one (`checkpoint` rounds, stored as blobs).
/// A member whose worker is stopping asks for a checkpoint in a round (`checkpointRequested`):
/// that round's answers ask every member for one at the end of the iteration, so that the gang
/// resumes from there when the member hands its shard back after it (`ShardStopCheckpoint`).
extension CoordinatorService {
    struct ExactGang {
        var jobID: String
        /// The stage its shards render (`ShardOrder.stageNumber`): restarts and checkpoints stay within it.
        var stage: Int = 1
        var shardCount: Int
        /// attempt id → the member's worker and shard index.
        var members: [Int64: (peer: Data, taskID: String, index: Int)] = [:]
        /// The round being collected, and each shard's bytes for it (a checkpoint round keeps
        /// no bytes here: they go to the `CheckpointWriter`).
        var round: (step: Int, phase: ExchangePhase)?
        var received: [Int: Data] = [:]
        /// Each member's band rows (its window's rows: its own and its halo), by shard index:
        /// edge rows go only to the shards whose band they touch. Empty when the orders could
        /// not tell (then every shard gets every other shard's rows).
        var bands: [Int: Range<Int>] = [:]
        /// When the round's first contribution arrived (the exchange round time runs to its broadcast).
        var roundStarted: ContinuousClock.Instant?
        /// A checkpoint round: the iteration its shards saved, and the shards whose blobs are
        /// written (or could not be: `checkpointFailed`).
        var checkpointIteration: Int?
        var checkpointWritten: Set<Int> = []
        var checkpointFailed = false
        /// The shards that asked for a checkpoint in the round being collected.
        var checkpointAsked: Set<Int> = []
    }

    /// Free workers held back for the first exact job that waits for a gang: only tasks of jobs
    /// of a higher priority than its own may go to them (`leaseGangs`).
    struct GangReservation {
        var jobID: String
        var priority: Int
        var workers: [Data: WorkerSession]
    }

    /// Leases every shard of a job at once when enough capable workers are free, and removes
    /// the workers it used from `wanting`. Runnable gangs are taken in scheduling order (the
    /// highest priority, then the oldest job). The first one that cannot start yet, if enough
    /// capable workers are connected to run it at all, holds the capable workers that are free
    /// (they leave `wanting` too, and come back as the returned reservation): otherwise single
    /// tasks of other jobs would take every worker that frees up, one by one, and the gang
    /// would wait for ever. Only one gang holds workers at a time, so two gangs never each hold
    /// half of what both need; with fewer capable workers connected than it has shards, a gang
    /// holds none (it waits, and the job's status says why).
    func leaseGangs(_ tx: FarmRecords.Transaction, _ effects: inout BatchEffects, wanting: inout [Data: WorkerSession],
                    blocked: [String: Set<String>]) throws -> GangReservation? {
        var reservation: GangReservation?
        for (job, ready) in try tx.runnableGangs() where gangs[job] == nil {
            let decoded = try ready.map { candidate -> (FarmRecords.Transaction.Candidate, ShardOrder) in
                guard case .shard(let order) = try WorkOrder.decode(candidate.request) else {
                    throw EngineError(.invalidArgument, "task \(candidate.key) is not a shard order")
                }
                return (candidate, order)
            }
            // A coarse-to-fine job's stages run one after the other (each starts from the stitch
            // of the one before), so one stage is ready at a time; should more ever be, the
            // earliest goes first. A gang is one stage's shards.
            guard let stage = decoded.map(\.1.stageNumber).min() else { continue }
            let members = decoded.filter { $0.1.stageNumber == stage }
            let shards = members.map(\.0), orders = members.map(\.1)
            guard let count = orders.first?.shardCount else { continue }
            guard shards.count == count else {
                // Some shards are ready and the rest are not running: they finished in a gang
                // that lost another member (or before a restart). A shard cannot run alone, so
                // the finished ones run again with the others (from the latest checkpoint).
                if try tx.shardsRunning(ofJob: job) == 0, try tx.reopenShards(ofJob: job, stage: stage) > 0 {
                    logger.notice("exact gang restarts whole", metadata: ["job.id": "\(job)", "stage": "\(stage)"])
                }
                continue
            }
            let largest = shards.map(\.pixels).max() ?? 0
            // `wanting` holds no drained worker; a worker blocked for the job is no member.
            func capable(_ session: WorkerSession) -> Bool {
                !(blocked[session.name] ?? []).contains(job) && session.canRun(kind: "shard", pixels: largest)
            }
            let free = wanting.filter { capable($0.value) }.keys.sorted { $0.lexicographicallyPrecedes($1) }
            guard free.count >= count else {
                let connected = workers.values.filter { !drained.contains($0.name) && capable($0) }.count
                if reservation == nil, connected >= count {
                    var held: [Data: WorkerSession] = [:]
                    for peer in free { held[peer] = wanting.removeValue(forKey: peer) }
                    reservation = GangReservation(jobID: job, priority: try tx.priority(ofJob: job) ?? 0, workers: held)
                }
                continue
            }
            // A gang that stopped between its shards' saves left rows no new gang may mix with its own.
            effects.unneededBlobs += try tx.dropIncompleteCheckpoints(ofJob: job)
            let checkpoint = try resumableCheckpoint(ofJob: job, stage: stage, shardCount: count, tx)
            var gang = ExactGang(jobID: job, stage: stage, shardCount: count)
            for ((candidate, order), peer) in zip(zip(shards, orders), free) {
                guard let session = wanting.removeValue(forKey: peer) else { continue }
                let resume = checkpoint?.shard(order.shardIndex).map { BlobReference.scheme + $0.sha256 }
                let settings = try resolvedOrder(candidate, tx, resumePath: resume)
                let attemptID = try tx.recordAttempt(candidate, by: session.id)
                effects.assignments.append((peer, TaskAssignment(taskID: String(candidate.taskID), attemptID: attemptID, jobID: job,
                                                                 settings: settings, inputs: Self.blobInputs(of: settings)), candidate.key))
                gang.members[attemptID] = (peer, String(candidate.taskID), order.shardIndex)
                if let band = try? order.geometry().band { gang.bands[order.shardIndex] = band.rows }
            }
            gangs[job] = gang
            if let checkpoint {
                logger.notice("exact gang resumes from checkpoint", metadata: ["job.id": "\(job)", "iteration": "\(checkpoint.iteration)",
                                                                             "bytes": "\(checkpoint.bytes)"])
            }
            logger.info("exact gang leased", metadata: ["job.id": "\(job)", "shards": "\(count)"])
        }
        return reservation
    }

    /// The latest complete checkpoint of the job's stage `stage`, when a gang of `shardCount`
    /// can resume from it: one shard each, and every blob still in the store (a blob gone from
    /// the disk means the gang starts from the beginning rather than sending workers for a file
    /// that is not there). Another stage's checkpoint is never resumed.
    func resumableCheckpoint(ofJob job: String, stage: Int = 1, shardCount: Int,
                             _ tx: FarmRecords.Transaction) throws -> FarmRecords.ExactCheckpoint? {
        guard let checkpoint = try tx.latestCheckpoint(ofJob: job, stage: stage) else { return nil }
        let indices = checkpoint.shards.map(\.shardIndex)
        guard checkpoint.shardCount == shardCount, indices == Array(0..<shardCount) else {
            logger.notice("exact checkpoint does not fit the gang; starting from the beginning",
                          metadata: ["job.id": "\(job)", "iteration": "\(checkpoint.iteration)", "shards": "\(indices)"])
            return nil
        }
        guard checkpoint.shards.allSatisfy({ blobs.path(of: $0.sha256) != nil }) else {
            logger.error("an exact checkpoint's blob is missing; starting from the beginning",
                         metadata: ["job.id": "\(job)", "iteration": "\(checkpoint.iteration)"])
            return nil
        }
        return checkpoint
    }

    /// One shard's bytes for a round; once every shard has sent the round, answers them all.
    func relay(_ exchange: ShardExchange, from peer: Data) {
        guard let job = gangs.first(where: { $0.value.members[exchange.attemptID] != nil })?.key,
              var gang = gangs[job], let member = gang.members[exchange.attemptID] else {
            // A shard of an aborted gang: stop it rather than leave it waiting (only its holder
            // can be running it; anyone else is told it is not theirs).
            if workers[peer]?.attempts.contains(exchange.attemptID) == true {
                reply(.cancel(CancelTask(taskID: exchange.taskID, attemptID: exchange.attemptID)), to: peer)
            } else {
                refuseForeign(exchange.attemptID, peer: peer)
            }
            return
        }
        guard member.peer == peer else { return refuseForeign(exchange.attemptID, peer: peer) }
        if let round = gang.round, round != (exchange.step, exchange.phase) {
            abortGang(job, reason: "shard \(member.index + 1) sent step \(exchange.step) \(exchange.phase) during step \(round.step) \(round.phase)",
                      retryable: true)
            return
        }
        if gang.round == nil { gang.roundStarted = clock.now }
        gang.round = (exchange.step, exchange.phase)
        // A checkpoint round's answer ends the stopping shard's task anyway: no request there.
        if exchange.checkpointRequested == true, exchange.phase != .checkpoint { gang.checkpointAsked.insert(member.index) }
        if exchange.phase == .checkpoint {
            // Stored, not relayed: answered once every shard's blob is written (`recordStoredCheckpoints`).
            return store(exchange, of: member.index, in: &gang)
        }
        gang.received[member.index] = exchange.bytes
        guard gang.received.count == gang.shardCount else {
            gangs[job] = gang
            return
        }
        do {
            let answers = try answer(exchange.phase, received: gang.received, shardCount: gang.shardCount, bands: gang.bands)
            finishRound(&gang, step: exchange.step, phase: exchange.phase, answers: answers)
        } catch {
            // Malformed or non-finite sums: another attempt would diverge the same way.
            abortGang(job, reason: "step \(exchange.step): \(error)", retryable: false)
        }
    }

    /// The most bytes a shard's checkpoint may have: it must go back to a worker as one blob
    /// message (a frame, plus the message's header) when the gang resumes.
    var maximumCheckpointBytes: Int { min(configuration.limits.maxFrameBytes, configuration.limits.maxMessageBytes) - (1 << 20) }

    /// One shard's checkpoint: checked (its header names this shard of this gang, at the same
    /// iteration as the other shards'), then handed to the `CheckpointWriter`. A checkpoint
    /// that is not one fails the job: another attempt would send the same bytes.
    private func store(_ exchange: ShardExchange, of index: Int, in gang: inout ExactGang) {
        let job = gang.jobID
        func refuse(_ problem: String) {
            gangs[job] = gang
            abortGang(job, reason: "shard \(index + 1)'s checkpoint at step \(exchange.step) is refused: \(problem)", retryable: false)
        }
        guard exchange.bytes.count <= maximumCheckpointBytes else {
            return refuse("\(exchange.bytes.count >> 20) MB is more than the \(maximumCheckpointBytes >> 20) MB a checkpoint may have (it must go back to a worker in one message); use more --shards")
        }
        let header: ExactShardCheckpoint.Header
        do {
            header = try ExactShardCheckpoint.header(of: [UInt8](exchange.bytes)).header
        } catch {
            return refuse("\(error)")
        }
        guard header.shardIndex == index, header.shardCount == gang.shardCount else {
            return refuse("it says shard \(header.shardIndex + 1) of \(header.shardCount); the sender is shard \(index + 1) of \(gang.shardCount)")
        }
        if let iteration = gang.checkpointIteration, iteration != header.iteration {
            return refuse("it is of iteration \(header.iteration); the other shards saved iteration \(iteration)")
        }
        gang.checkpointIteration = header.iteration
        guard gang.received[index] == nil else {
            gangs[job] = gang   // sent twice: the first one is being written
            return
        }
        gang.received[index] = Data()
        gangs[job] = gang
        checkpoints.enqueue(CheckpointWriter.Shard(jobID: job, stage: gang.stage, attemptID: exchange.attemptID, shardIndex: index, shardCount: gang.shardCount,
                                                   iteration: header.iteration, step: exchange.step, bytes: exchange.bytes.count),
                            bytes: exchange.bytes)
    }

    /// Records the checkpoints written since the last call; when every shard's of a gang's
    /// round is written, the iteration is complete (older checkpoints of the job go) and every
    /// shard is answered with no bytes. A checkpoint of a gang that has ended since is left
    /// unrecorded (its blob removed). A write that failed (a full disk) costs the checkpoint,
    /// not the render: the gang is answered and goes on, resumable from the previous one.
    func recordStoredCheckpoints() {
        for stored in checkpoints.takeStored() {
            let shard = stored.shard
            guard var gang = gangs[shard.jobID], gang.members[shard.attemptID] != nil,
                  let round = gang.round, round == (shard.step, .checkpoint) else {
                logger.info("dropped the checkpoint of a gang that has ended", metadata: ["job.id": "\(shard.jobID)", "shard": "\(shard.shardIndex + 1)"])
                if let sha = stored.sha256 {
                    do { if try records.reading({ try $0.isCheckpointBlob(sha) }) == false { checkpoints.remove([sha]) } } catch {}
                }
                continue
            }
            if let sha = stored.sha256, !gang.checkpointFailed {
                do {
                    let progress = try records.recordCheckpoint(job: shard.jobID, stage: shard.stage, iteration: shard.iteration, shardIndex: shard.shardIndex,
                                                                shardCount: shard.shardCount, sha256: sha, bytes: Int64(shard.bytes))
                    if case .complete(let dropped) = progress {
                        checkpoints.remove(dropped)
                        logger.info("exact checkpoint stored", metadata: ["job.id": "\(shard.jobID)", "iteration": "\(shard.iteration)"])
                    }
                } catch {
                    logger.error("could not record a checkpoint", metadata: ["job.id": "\(shard.jobID)", "error": "\(error)"])
                    gang.checkpointFailed = true
                }
            } else if let error = stored.error {
                logger.error("could not store a checkpoint; the gang goes on without it",
                             metadata: ["job.id": "\(shard.jobID)", "shard": "\(shard.shardIndex + 1)", "error": "\(error)"])
                gang.checkpointFailed = true
            }
            logger.debug("checkpoint written", metadata: ["job.id": "\(shard.jobID)", "shard": "\(shard.shardIndex + 1)",
                                                          "bytes": "\(shard.bytes)", "seconds": "\(stored.seconds)"])
            gang.checkpointWritten.insert(shard.shardIndex)
            gangs[shard.jobID] = gang
            guard gang.checkpointWritten.count == gang.shardCount else { continue }
            finishRound(&gang, step: shard.step, phase: .checkpoint, answers: Array(repeating: Data(), count: gang.shardCount))
        }
    }

    /// Answers every member for a complete round and starts the next. A round in which a
    /// member asked for a checkpoint asks it of every member, or of none when one of them
    /// predates the request (the shards must all save at the same iteration, or none).
    private func finishRound(_ gang: inout ExactGang, step: Int, phase: ExchangePhase, answers: [Data]) {
        let asked = !gang.checkpointAsked.isEmpty
        let request = asked && gang.members.values.allSatisfy {
            workers[$0.peer]?.capabilities.contains(ShardExchange.checkpointOnStopCapability) == true
        }
        if asked {
            logger.notice(request ? "exact gang checkpoints at the end of this iteration: a member is stopping"
                                  : "a stopping member asked for a checkpoint; another member predates the request, so the gang goes on without one",
                          metadata: ["job.id": "\(gang.jobID)", "step": "\(step)", "shards": "\(gang.checkpointAsked.map { $0 + 1 }.sorted())"])
        }
        for (attempt, member) in gang.members {
            guard member.index < answers.count else { continue }
            reply(.exchanged(ShardExchangeReply(attemptID: attempt, step: step, phase: phase, bytes: answers[member.index],
                                                checkpointRequested: request ? true : nil)), to: member.peer)
        }
        if let started = gang.roundStarted {
            metrics.exchangeRound.recordNanoseconds(CoordinatorMetrics.nanoseconds(clock.now - started))
        }
        gang.round = nil
        gang.roundStarted = nil
        gang.received = [:]
        gang.checkpointIteration = nil
        gang.checkpointWritten = []
        gang.checkpointFailed = false
        gang.checkpointAsked = []
        gangs[gang.jobID] = gang
    }

    /// A peer sent an exchange for a shard it does not run: refused and logged, nothing relayed.
    func refuseForeign(_ attempt: Int64, peer: Data) {
        logger.notice("refused an exchange for another worker's attempt", metadata: ["attempt.id": "\(attempt)",
                                                                                       "worker.id": "\(workers[peer]?.id ?? "unknown")"])
        reply(.error(ErrorReply(code: FarmErrorCode.notYourAttempt.rawValue, message: "attempt \(attempt) is not yours",
                                inReplyTo: "exchange")), to: peer)
    }

    /// Each shard's answer to a complete round: the sum of all partial sums (in shard order),
    /// or every other shard's edge strips.
    func answer(_ phase: ExchangePhase, received: [Int: Data], shardCount: Int, bands: [Int: Range<Int>] = [:]) throws -> [Data] {
        // Every shard's bytes, in shard order (the round is complete, but a gap is an error, not a trap).
        func sent(_ index: Int) throws -> Data {
            guard let bytes = received[index] else { throw EngineError(.invalidArgument, "shard \(index + 1) sent nothing") }
            return bytes
        }
        switch phase {
        case .sums:
            let sums = try (0..<shardCount).map { try ExactExchangeCodec.decodeSums([UInt8](try sent($0))) }
            let total = Data(try ExactExchangeCodec.encode(try ExactPartialSums.sum(sums)))
            return Array(repeating: total, count: shardCount)
        case .dots:
            let parts = try (0..<shardCount).map { try ShardReductions.decode([UInt8](try sent($0))) }
            return Array(repeating: Data(try ShardReductions.combine(parts).encoded()), count: shardCount)
        case .checkpoint:
            // Stored by `relay` (`store`); once all are written, each shard gets an empty answer.
            return Array(repeating: Data(), count: shardCount)
        case .pixels, .gradients:
            // Relayed as bytes, strip by strip, to the shards whose band the strip's rows touch:
            // at 4096² and 8 shards, decoding every strip and sending each shard all the others'
            // was 440 MB a round on this loop, long enough for every worker to look silent.
            // The receivers decode (and check) what they get.
            let strips = try (0..<shardCount).map { index -> (bytes: Data, strips: [ExactExchangeCodec.StripExtent]) in
                let bytes = try sent(index)
                return (bytes, try ExactExchangeCodec.stripExtents([UInt8](bytes), maxPixels: TileGrid.maxSide * 4096))
            }
            return (0..<shardCount).map { index in
                var chosen: [(Data, Range<Int>)] = []
                for (sender, part) in strips.enumerated() where sender != index {
                    for strip in part.strips where bands[index].map({ $0.overlaps(strip.rect.rows) }) ?? true {
                        chosen.append((part.bytes, strip.bytes))
                    }
                }
                var answer = Data(ExactExchangeCodec.littleEndian(UInt32(chosen.count)))
                answer.reserveCapacity(4 + chosen.reduce(0) { $0 + $1.1.count })
                for (bytes, range) in chosen { answer.append(bytes[bytes.startIndex + range.lowerBound..<bytes.startIndex + range.upperBound]) }
                return answer
            }
        }
    }

    /// Ends a gang: its members still running are told to stop and requeued, so that all its
    /// shards start again together. A gang cancelled because of another shard's trouble is a
    /// loss (the loss budget); bad sums (`retryable` false) fail the job.
    func abortGang(_ job: String, reason: String, retryable: Bool) {
        guard let gang = gangs.removeValue(forKey: job) else { return }
        logger.notice("exact gang aborted", metadata: ["job.id": "\(job)", "reason": "\(reason)"])
        let end: FarmRecords.AttemptEnd = retryable ? .lost(.gangCancelled) : .failed(retryable: false)
        defer {
            // Shards that had already finished (or whose results are being written) run again
            // with the others: one shard's pixels are only right together with all the others'.
            if retryable {
                do { _ = try records.transaction { try $0.reopenShards(ofJob: job, stage: gang.stage) } } catch {
                    logger.error("could not restart a gang's finished shards", metadata: ["job.id": "\(job)", "error": "\(error)"])
                }
            }
        }
        for (attempt, member) in gang.members {
            do {
                let outcome = try records.endAttempt(attempt, end, reason: reason)
                if outcome != .stale {
                    workers[member.peer]?.attempts.remove(attempt)
                    reply(.cancel(CancelTask(taskID: member.taskID, attemptID: attempt)), to: member.peer)
                }
                if case .failedPermanently(let failed, let cancelled) = outcome { jobEnded(failed, cancelled: cancelled) }
            } catch {
                logger.error("could not requeue a shard", metadata: ["attempt.id": "\(attempt)", "error": "\(error)"])
            }
        }
    }

    /// Aborts gangs that lost a member (its worker went silent, failed or left) and forgets
    /// gangs whose members all finished.
    func checkGangs() throws {
        for (job, gang) in gangs {
            let outcomes = try records.reading { tx in try gang.members.keys.map { try tx.outcome(ofAttempt: $0) ?? "lost" } }
            let fine: Set<String> = [Farm.AttemptOutcome.running.rawValue, Farm.AttemptOutcome.received.rawValue,
                                     Farm.AttemptOutcome.succeeded.rawValue]
            if outcomes.allSatisfy({ $0 == Farm.AttemptOutcome.succeeded.rawValue }) {
                gangs.removeValue(forKey: job)
            } else if let bad = outcomes.first(where: { !fine.contains($0) }) {
                abortGang(job, reason: "a shard's attempt ended \(bad)", retryable: true)
            }
        }
    }
}
