import Foundation
@testable import Engine

/// An exact job's gang in one process: K shards on K threads, and a relay that answers each
/// round as the coordinator does (sums added in shard order, strips passed to every other
/// shard, reductions combined, checkpoints kept, answered with no bytes).
final class InProcessGang: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var deposits: [Int: (ExactExchangePhase, [UInt8])] = [:]
    private var answers: [Int: [UInt8]] = [:]
    private var generation = 0
    private var failure: (any Error)?
    /// Every checkpoint round's bytes, by iteration then shard.
    private(set) var checkpoints: [Int: [Int: ExactShardCheckpoint]] = [:]
    /// Every round's phase, in order (shard 0's view).
    private(set) var rounds: [ExactExchangePhase] = []

    init(count: Int) { self.count = count }

    func exchange(shard: Int, phase: ExactExchangePhase, bytes: [UInt8]) throws -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        let mine = generation
        deposits[shard] = (phase, bytes)
        if deposits.count == count {
            do {
                answers = try answer()
            } catch {
                failure = error
            }
            rounds.append(phase)
            deposits = [:]
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine && failure == nil { condition.wait() }
        }
        if let failure { throw failure }
        guard let answer = answers[shard] else { throw EngineError(.failed, "no answer for shard \(shard)") }
        return answer
    }

    private func answer() throws -> [Int: [UInt8]] {
        let phases = Set(deposits.values.map(\.0))
        guard phases.count == 1, let phase = phases.first else { throw EngineError(.failed, "shards sent different phases: \(phases)") }
        let ordered = (0..<count).map { deposits[$0]!.1 }
        switch phase {
        case .sums:
            let total = try ExactExchangeCodec.encode(try ExactPartialSums.sum(ordered.map { try ExactExchangeCodec.decodeSums($0) }))
            return Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, total) })
        case .pixels, .gradients:
            let strips = try ordered.map { try ExactExchangeCodec.decodeStrips($0, maxPixels: 1 << 26) }
            return Dictionary(uniqueKeysWithValues: (0..<count).map { index in
                (index, ExactExchangeCodec.encode(strips.enumerated().filter { $0.offset != index }.flatMap(\.element)))
            })
        case .dots:
            let total = try ShardReductions.combine(try ordered.map { try ShardReductions.decode($0) }).encoded()
            return Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, total) })
        case .checkpoint:
            for bytes in ordered {
                let checkpoint = try ExactShardCheckpoint.decode(bytes)
                checkpoints[checkpoint.iteration, default: [:]][checkpoint.shardIndex] = checkpoint
            }
            return Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, []) })
        }
    }

    /// Runs `body(shard)` for every shard on its own thread and returns the results in shard order.
    func run<T>(_ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let results = Results<T>(count: count)
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do { results.set(index, .success(try body(index))) } catch {
                    results.set(index, .failure(error))
                    self.condition.lock()
                    if self.failure == nil { self.failure = error }
                    self.condition.broadcast()
                    self.condition.unlock()
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return try results.values.map { try $0!.get() }
    }

    private final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        var values: [Result<T, any Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<T, any Error>) { lock.lock(); values[index] = value; lock.unlock() }
    }
}
