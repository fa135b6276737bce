import CoreMetrics
import Engine
import Foundation
import Logging
import Protocol
import Farm

/// Exact tiled jobs: their shards run as a gang, leased together to distinct workers, and the
/// coordinator relays their exchange rounds (sums added up, edge pixels passed on). A gang
/// lives only in memory: if any member's attempt ends badly (its worker is lost, it fails),
/// the others are cancelled and every shard is requeued, to start again together.
extension CoordinatorService {
    struct ExactGang {
        var jobID: String
        var shardCount: Int
        /// attempt id → the member's worker and shard index.
        var members: [Int64: (peer: Data, taskID: String, index: Int)] = [:]
        /// The round being collected, and each shard's bytes for it.
        var round: (step: Int, phase: ExchangePhase)?
        var received: [Int: Data] = [:]
        /// When the round's first contribution arrived (the exchange round time runs to its broadcast).
        var roundStarted: ContinuousClock.Instant?
    }

    /// Leases every shard of a job at once when enough workers are free; removes the workers it
    /// used from `wanting`.
    func leaseGangs(_ tx: FarmRecords.Transaction, _ effects: inout BatchEffects, wanting: inout [Data: WorkerSession],
                    blocked: [String: Set<String>]) throws {
        for (job, shards) in try tx.runnableShards() where gangs[job] == nil {
            let orders = try shards.map { candidate -> ShardOrder in
                guard case .shard(let order) = try WorkOrder.decode(candidate.request) else {
                    throw EngineError(.invalidArgument, "task \(candidate.key) is not a shard order")
                }
                return order
            }
            guard let count = orders.first?.shardCount else { continue }
            guard shards.count == count else {
                // Some shards are ready and the rest are not running: they finished in a gang
                // that lost another member (or before a restart). A shard cannot run alone, so
                // the finished ones run again with the others.
                if try tx.shardsRunning(ofJob: job) == 0, try tx.reopenShards(ofJob: job) > 0 {
                    logger.notice("exact gang restarts whole", metadata: ["job.id": "\(job)"])
                }
                continue
            }
            let largest = shards.map(\.pixels).max() ?? 0
            // `wanting` holds no drained worker; a worker blocked for the job is no member.
            let free = wanting.filter { !(blocked[$0.value.name] ?? []).contains(job) && $0.value.canRun(kind: "shard", pixels: largest) }
                .keys.sorted { $0.lexicographicallyPrecedes($1) }
            guard free.count >= count else { continue }
            var gang = ExactGang(jobID: job, shardCount: count)
            for ((candidate, order), peer) in zip(zip(shards, orders), free) {
                guard let session = wanting.removeValue(forKey: peer) else { continue }
                let settings = try resolvedOrder(candidate, tx)
                let attemptID = try tx.recordAttempt(candidate, by: session.id)
                effects.assignments.append((peer, TaskAssignment(taskID: String(candidate.taskID), attemptID: attemptID, jobID: job,
                                                                 settings: settings, inputs: Self.blobInputs(of: settings)), candidate.key))
                gang.members[attemptID] = (peer, String(candidate.taskID), order.shardIndex)
            }
            gangs[job] = gang
            logger.info("exact gang leased", metadata: ["job.id": "\(job)", "shards": "\(count)"])
        }
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
        gang.received[member.index] = exchange.bytes
        guard gang.received.count == gang.shardCount else {
            gangs[job] = gang
            return
        }
        do {
            let answers = try answer(exchange.phase, received: gang.received, shardCount: gang.shardCount)
            for (attempt, member) in gang.members {
                reply(.exchanged(ShardExchangeReply(attemptID: attempt, step: exchange.step, phase: exchange.phase,
                                                    bytes: answers[member.index])), to: member.peer)
            }
            if let started = gang.roundStarted {
                metrics.exchangeRound.recordNanoseconds(CoordinatorMetrics.nanoseconds(clock.now - started))
            }
            gang.round = nil
            gang.roundStarted = nil
            gang.received = [:]
            gangs[job] = gang
        } catch {
            // Malformed or non-finite sums: another attempt would diverge the same way.
            abortGang(job, reason: "step \(exchange.step): \(error)", retryable: false)
        }
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
    func answer(_ phase: ExchangePhase, received: [Int: Data], shardCount: Int) throws -> [Data] {
        switch phase {
        case .sums:
            let sums = try (0..<shardCount).map { try ExactExchangeCodec.decodeSums([UInt8](received[$0]!)) }
            let total = Data(try ExactExchangeCodec.encode(try ExactPartialSums.sum(sums)))
            return Array(repeating: total, count: shardCount)
        case .dots:
            let parts = try (0..<shardCount).map { try ShardReductions.decode([UInt8](received[$0]!)) }
            return Array(repeating: Data(try ShardReductions.combine(parts).encoded()), count: shardCount)
        case .checkpoint:
            throw EngineError(.invalidArgument, "checkpoints are not stored by this coordinator yet")
        case .pixels, .gradients:
            let strips = try (0..<shardCount).map {
                try ExactExchangeCodec.decodeStrips([UInt8](received[$0]!), maxPixels: TileGrid.maxSide * 4096)
            }
            return (0..<shardCount).map { index in
                Data(ExactExchangeCodec.encode(strips.enumerated().filter { $0.offset != index }.flatMap(\.element)))
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
                do { _ = try records.transaction { try $0.reopenShards(ofJob: job) } } catch {
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
