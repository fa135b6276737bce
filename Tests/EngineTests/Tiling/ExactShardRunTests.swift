import Foundation
import Testing
import TestSupport
@testable import Engine

/// Exact shards in one process (`InProcessGang` stands in for the coordinator): band windows
/// with the gradient exchange, Adam and the vector-free L-BFGS across shards, and checkpoints,
/// against the whole-image optimisers on the same objective (64×64, shallow layers, real weights).
@Suite(.serialized)
struct ExactShardRunTests {
    final class Box<T>: @unchecked Sendable { var value: T; init(_ value: T) { self.value = value } }

    struct GangRun {
        var image: Tensor
        var losses: [[Double]]
        var outcomes: [ExactShardRun.Outcome]
        var gang: InProcessGang
        var firstIterations: [Int]
    }

    static let size = 64

    static func shards(_ objective: TiledObjective, network: VGG19Network, content: Tensor, initial: Tensor, scheme: ExactTileStep.Scheme,
                       count: Int, tile: Int = 16, columns: Int = 1) throws -> [ExactShard] {
        try (0..<count).map { index in
            let geometry = try ExactShard.geometry(objective: objective, tile: tile, halo: nil, scheme: scheme, shards: count, index: index,
                                                   columns: columns)
            return try ExactShard(network: network, objective: objective, geometry: geometry, shards: count, index: index,
                                  content: content.cropped(to: geometry.band), initial: initial.cropped(to: geometry.band), threads: 1)
        }
    }

    /// `requestAt`: every shard's `checkpointRequested` says yes at the end of that iteration
    /// (as a worker's does once an answer carried the coordinator's request).
    static func run(_ shards: [ExactShard], settings: ExactShardRun.Settings, resume: [Int: ExactShardCheckpoint]? = nil,
                    requestAt: Int? = nil) throws -> GangRun {
        let gang = InProcessGang(count: shards.count)
        let boxes = shards.map { Box($0) }
        let results = try gang.run { index in
            var losses: [Double] = []
            var first: Int?
            var asked = resume?[index]?.iteration ?? 0
            let requested = { () -> Bool in
                asked += 1
                return asked == requestAt
            }
            var run = ExactShardRun(shard: boxes[index].value, settings: settings, checkpointRequested: requested) { phase, bytes in
                try gang.exchange(shard: index, phase: phase, bytes: bytes)
            }
            let outcome = try run.run(resume: resume?[index]) { iteration, l, _ in
                if first == nil { first = iteration }
                losses.append(l.total)
            }
            return (losses, outcome, first ?? -1)
        }
        var image = Tensor(channels: 3, height: shards[0].objective.height, width: shards[0].objective.width)
        for shard in shards { image.paste(shard.interiorPixels, at: shard.interior) }
        return GangRun(image: image, losses: results.map(\.0), outcomes: results.map(\.1), gang: gang, firstIterations: results.map(\.2))
    }

    static func wholeImage(_ objective: TiledObjective, content: Tensor, network: VGG19Network, optimizer: any IterativeOptimizer,
                           iterations: Int) throws -> (image: Tensor, losses: [Double]) {
        let function = ObjectiveFunction(objective: try ExactTileStepTests.wholeImage(objective, content: content, network: network),
                                         isCancelled: { false })
        var x = content
        var losses: [Double] = []
        try x.withUnsafeMutableBufferPointer { xp in
            losses.append(try optimizer.start(xp.baseAddress!, function: function))
            for _ in 0..<iterations { losses.append(try optimizer.iterate(xp.baseAddress!, function: function).loss) }
        }
        return (x, losses)
    }

    @Test func aGradientExchangeShardIsItsBandPlusTheForwardHalo() throws {
        let network = try TilingFixtures.network.get()
        let objective = try ExactTileStepTests.objective(width: 64, height: 48, pooling: .max, network: network)
        // Tiles of 16 make 3 tile rows; 2 shards take rows 0–1 and 2. The margin of block2_relu1 is 4.
        let first = try ExactShard.geometry(objective: objective, tile: 16, halo: nil, scheme: .gradientExchange, shards: 2, index: 0)
        let second = try ExactShard.geometry(objective: objective, tile: 16, halo: nil, scheme: .gradientExchange, shards: 2, index: 1)
        #expect(first.windows.count == 1 && second.windows.count == 1)
        #expect(first.interior == PixelRect(x: 0, y: 0, width: 64, height: 32))
        #expect(first.band == PixelRect(x: 0, y: 0, width: 64, height: 36))
        #expect(second.interior == PixelRect(x: 0, y: 32, width: 64, height: 16))
        #expect(second.band == PixelRect(x: 0, y: 28, width: 64, height: 20))
        // The wide halo keeps one window per tile, each with the whole receptive field around it.
        let wide = try ExactShard.geometry(objective: objective, tile: 16, halo: nil, scheme: .wideHalo, shards: 2, index: 0)
        #expect(wide.windows.count == 8 && wide.windowPixels > 2 * first.windowPixels)
        let columns = try ExactShard.geometry(objective: objective, tile: 16, halo: nil, scheme: .gradientExchange, shards: 2, index: 0,
                                              columns: 2)
        #expect(columns.windows.count == 2 && columns.band == first.band)
    }

    @Test(arguments: [(2, 1), (3, 1), (2, 2)])
    func adamOnGradientExchangeShardsMatchesAdamOnTheWholeImage(count: Int, columns: Int) throws {
        let network = try TilingFixtures.network.get()
        let objective = try ExactTileStepTests.objective(width: Self.size, height: Self.size, pooling: .max, network: network)
        let content = TilingFixtures.image(width: Self.size, height: Self.size, seed: 1)
        let adam = Adam.Settings(learningRate: 4, decay: 0.9, decayEvery: 2)
        let steps = 6
        let shards = try Self.shards(objective, network: network, content: content, initial: content, scheme: .gradientExchange,
                                     count: count, columns: columns)
        let gang = try Self.run(shards, settings: .init(optimizer: .adam, iterations: steps, adam: adam, lbfgs: .init()))
        let whole = try Self.wholeImage(objective, content: content, network: network,
                                        optimizer: Adam(dimension: content.count, settings: adam), iterations: steps)
        let difference = TilingFixtures.maxAbsDifference(gang.image.values, whole.image.values)
        #expect(difference <= 0.05, "max pixel difference \(difference)")
        #expect(gang.losses.allSatisfy { $0 == gang.losses[0] }, "every shard reports the same global losses")
        for (a, b) in zip(gang.losses[0], whole.losses) { #expect(abs(a - b) <= 1e-4 * b) }
        // Three rounds per evaluation (pixels, sums, gradients), none for the last gradient.
        #expect(gang.gang.rounds.count == 3 * (steps + 1) - 1)
    }

    /// Deeper layers (to block3_relu1, stride 4): the bands' graphs cut the rows the deep
    /// layers do not need after each pooling step, and the result is still the whole image's.
    @Test func rowCutsAfterPoolingKeepTheShardsExact() throws {
        let network = try TilingFixtures.network.get()
        let style = TilingFixtures.image(width: 48, height: 40, seed: 5)
        let layers = [WeightedLayer("block1_relu1", 0.5), WeightedLayer("block2_relu1", 1), WeightedLayer("block3_relu1", 2)]
        let grams = try FeatureTargets.grams(network: network, pooling: .max, image: style, layers: layers.map(\.layer), threads: 2)
        let objective = TiledObjective(width: 64, height: 96, pooling: .max, contentLayers: [WeightedLayer("block3_relu1", 0.01)],
                                       styles: [StyleTerm(layers: layers, weight: 0.7, grams: grams)], alpha: 1, beta: 1e-4, tvWeight: 1e-3)
        let content = TilingFixtures.image(width: 64, height: 96, seed: 1)
        let adam = Adam.Settings(learningRate: 4)
        let shards = try Self.shards(objective, network: network, content: content, initial: content, scheme: .gradientExchange,
                                     count: 3, tile: 16)
        // block3_relu1's margin is 10 (halo 12); its owned rows need only 10/4 → 3 rows of block2_pool beyond them.
        #expect(shards.allSatisfy { $0.steps.allSatisfy { !$0.rowCrops.isEmpty } })
        let gang = try Self.run(shards, settings: .init(optimizer: .adam, iterations: 3, adam: adam, lbfgs: .init()))
        let whole = try Self.wholeImage(objective, content: content, network: network,
                                        optimizer: Adam(dimension: content.count, settings: adam), iterations: 3)
        let difference = TilingFixtures.maxAbsDifference(gang.image.values, whole.image.values)
        #expect(difference <= 0.05, "max pixel difference \(difference)")
        for (a, b) in zip(gang.losses[0], whole.losses) { #expect(abs(a - b) <= 1e-4 * b) }
    }

    @Test(arguments: [ExactTileStep.Scheme.gradientExchange, .wideHalo])
    func lbfgsAcrossShardsFollowsTheWholeImageLBFGS(scheme: ExactTileStep.Scheme) throws {
        let network = try TilingFixtures.network.get()
        let objective = try ExactTileStepTests.objective(width: Self.size, height: Self.size, pooling: .max, network: network)
        let content = TilingFixtures.image(width: Self.size, height: Self.size, seed: 1)
        let iterations = 12
        let lbfgs = LBFGS.Settings(history: 5, learningRate: 1, threads: 1)
        let shards = try Self.shards(objective, network: network, content: content, initial: content, scheme: scheme, count: 2)
        let gang = try Self.run(shards, settings: .init(optimizer: .lbfgs, iterations: iterations, adam: .init(), lbfgs: lbfgs))
        let whole = try Self.wholeImage(objective, content: content, network: network,
                                        optimizer: LBFGS(dimension: content.count, settings: lbfgs), iterations: iterations)
        #expect(gang.losses[0].count == iterations + 1)
        #expect(gang.losses[0].last! < 0.5 * gang.losses[0][0], "L-BFGS made progress: \(gang.losses[0])")
        // The same decisions on the same scalars, up to rounding: the shards' gradient differs
        // from the whole image's by float rounding (2e-7 of its largest component), and the
        // first L-BFGS pair, taken after a step of 1/‖g‖₁, amplifies it (y = g₁ − g₀ of two nearly
        // equal gradients). Measured: 1e-4 at iteration 2, at most 0.25 % up to iteration 12.
        // `vectorFreeLBFGSTakesLBFGSsStepsOnTheSameFunction` shows the algorithm itself agrees to 1e-5.
        for (i, (a, b)) in zip(gang.losses[0], whole.losses).enumerated() {
            #expect(abs(a - b) <= 1e-2 * b, "iteration \(i): \(a) against \(b)")
        }
        #expect(abs(gang.losses[0][1] - whole.losses[1]) <= 1e-6 * whole.losses[1])
        #expect(abs(gang.losses[0].last! - whole.losses.last!) <= 5e-3 * whole.losses.last!)
        // One dots round per iteration and one at the start.
        #expect(gang.gang.rounds.filter { $0 == .dots }.count == iterations + 1)
    }

    /// Two gradient-exchange shards of the test objective, starting from the content.
    static func twoGradientExchangeShards() throws -> [ExactShard] {
        let network = try TilingFixtures.network.get()
        let objective = try ExactTileStepTests.objective(width: size, height: size, pooling: .max, network: network)
        let content = TilingFixtures.image(width: size, height: size, seed: 1)
        return try shards(objective, network: network, content: content, initial: content, scheme: .gradientExchange, count: 2)
    }

    @Test(arguments: [RenderSettings.OptimizerKind.adam, .lbfgs])
    func aGangResumedFromACheckpointEndsWhereAnUninterruptedOneEnds(optimizer: RenderSettings.OptimizerKind) throws {
        let settings = ExactShardRun.Settings(optimizer: optimizer, iterations: 6, adam: .init(learningRate: 2),
                                              lbfgs: .init(history: 4, learningRate: 1, threads: 1), checkpointEvery: 3)
        let whole = try Self.run(try Self.twoGradientExchangeShards(), settings: settings)
        #expect(whole.outcomes.allSatisfy { $0.checkpoints == 1 }, "a checkpoint at 3, none at the last iteration")
        let saved = try #require(whole.gang.checkpoints[3])
        #expect(saved.count == 2)

        let resumed = try Self.run(try Self.twoGradientExchangeShards(), settings: settings, resume: saved)
        #expect(resumed.firstIterations == [3, 3], "the steps before the checkpoint are not redone")
        #expect(resumed.outcomes.allSatisfy { $0.resumedAt == 3 && $0.evaluations < whole.outcomes[0].evaluations })
        let difference = TilingFixtures.maxAbsDifference(resumed.image.values, whole.image.values)
        #expect(difference <= 1e-4, "max pixel difference \(difference)")
        #expect(abs(resumed.losses[0].last! - whole.losses[0].last!) <= 1e-9 * whole.losses[0].last!)
    }

    /// A stopping worker's request: every shard saves at the end of the iteration it came in,
    /// whatever `checkpointEvery` says, and the optimisation goes on unchanged; a request in the
    /// last iteration saves nothing (the result is what the gang needs then).
    @Test(arguments: [RenderSettings.OptimizerKind.adam, .lbfgs])
    func aRequestedCheckpointIsSavedByEveryShardAtThatIteration(optimizer: RenderSettings.OptimizerKind) throws {
        let settings = ExactShardRun.Settings(optimizer: optimizer, iterations: 5, adam: .init(learningRate: 2),
                                              lbfgs: .init(history: 4, learningRate: 1, threads: 1), checkpointEvery: 0)
        let plain = try Self.run(try Self.twoGradientExchangeShards(), settings: settings)
        let requested = try Self.run(try Self.twoGradientExchangeShards(), settings: settings, requestAt: 2)
        #expect(Array(requested.gang.checkpoints.keys) == [2], "saved at the request's iteration only: \(requested.gang.checkpoints.keys)")
        #expect(requested.gang.checkpoints[2]?.count == 2 && requested.outcomes.allSatisfy { $0.checkpoints == 1 })
        // Saving reads the state and changes nothing: the same steps as without the request (up
        // to the summation order OpenBLAS may pick between runs, far below a step of lr 2).
        let difference = TilingFixtures.maxAbsDifference(requested.image.values, plain.image.values)
        #expect(difference <= 1e-4, "max pixel difference \(difference)")
        let last = try Self.run(try Self.twoGradientExchangeShards(), settings: settings, requestAt: 5)
        #expect(last.gang.checkpoints.isEmpty && last.outcomes.allSatisfy { $0.checkpoints == 0 })
    }

    @Test func aCheckpointRoundTripsAndABrokenOneIsRefused() throws {
        var checkpoint = ExactShardCheckpoint(iteration: 7, shardIndex: 1, shardCount: 3, optimizer: "lbfgs", scalars: ["loss": 2.5])
        checkpoint.floats["x"] = [1, 2, 3]
        checkpoint.doubles["dots"] = [0, 0, 4.25]
        let bytes = try checkpoint.encoded()
        #expect(try ExactShardCheckpoint.decode(bytes) == checkpoint)
        #expect(try ExactShardCheckpoint.header(of: bytes).header.iteration == 7)
        #expect(throws: EngineError.self) { try ExactShardCheckpoint.decode(Array(bytes.dropLast())) }
        #expect(throws: EngineError.self) { try ExactShardCheckpoint.decode(bytes + [0]) }
        var wrongMagic = bytes
        wrongMagic[0] = 0
        #expect(throws: EngineError.self) { try ExactShardCheckpoint.decode(wrongMagic) }
        var nan = checkpoint
        nan.floats["x"] = [.nan]
        #expect(throws: EngineError.self) { try ExactShardCheckpoint.decode(try nan.encoded()) }
    }

    @Test func reductionsAddSumsAndTakeMaxima() throws {
        let a = ShardReductions(sums: [1, 2], maxes: [3]), b = ShardReductions(sums: [10, 20], maxes: [1])
        #expect(try ShardReductions.combine([a, b]) == ShardReductions(sums: [11, 22], maxes: [3]))
        #expect(try ShardReductions.decode(try a.encoded()) == a)
        #expect(throws: EngineError.self) { try ShardReductions.combine([a, ShardReductions(sums: [1], maxes: [1])]) }
        #expect(throws: EngineError.self) { try ShardReductions.decode(Array(try a.encoded().dropLast())) }
    }
}

extension ExactShardRunTests {
    /// The vector-free L-BFGS against `LBFGS` on the very same function, its vector cut in two
    /// halves held by two "shards" (threads): only the order of the sums differs.
    @Test func vectorFreeLBFGSTakesLBFGSsStepsOnTheSameFunction() throws {
        let network = try TilingFixtures.network.get()
        let objective = try ExactTileStepTests.objective(width: Self.size, height: Self.size, pooling: .max, network: network)
        let content = TilingFixtures.image(width: Self.size, height: Self.size, seed: 1)
        let settings = LBFGS.Settings(history: 5, learningRate: 1, threads: 1)
        let iterations = 12
        let whole = try Self.wholeImage(objective, content: content, network: network,
                                        optimizer: LBFGS(dimension: content.count, settings: settings), iterations: iterations)

        let function = Box(ObjectiveFunction(objective: try ExactTileStepTests.wholeImage(objective, content: content, network: network),
                                             isCancelled: { false }))
        let n = content.count, half = n / 2
        let parts = [0..<half, half..<n]
        let gang = InProcessGang(count: 2)
        let shared = Box<(x: [Float], evaluated: [Float], losses: Double, gradient: [Float])>((content.values, [], 0, []))
        let lock = NSLock()
        let results = try gang.run { index in
            let optimizer = ShardLBFGS(x: Array(content.values[parts[index]]), settings: settings)
            let evaluate: ShardLBFGS.Evaluate = { slice in
                // Both shards post their slice (a sums round carries nothing here but keeps them in step).
                lock.lock(); shared.value.x.replaceSubrange(parts[index], with: slice); lock.unlock()
                _ = try gang.exchange(shard: index, phase: .pixels, bytes: ExactExchangeCodec.encode([]))
                if index == 0 {
                    var g = [Float](repeating: 0, count: n)
                    let loss = try shared.value.x.withUnsafeBufferPointer { x in
                        try g.withUnsafeMutableBufferPointer { try function.value.evaluate(x.baseAddress!, gradient: $0.baseAddress!) }
                    }
                    shared.value.losses = loss
                    shared.value.gradient = g
                }
                _ = try gang.exchange(shard: index, phase: .gradients, bytes: ExactExchangeCodec.encode([]))
                let loss = shared.value.losses
                return (LossBreakdown(total: loss, content: 0, styles: [], tv: 0), Array(shared.value.gradient[parts[index]]))
            }
            let reduce: ShardLBFGS.Reduce = { try ShardReductions.decode(try gang.exchange(shard: index, phase: .dots, bytes: try $0.encoded())) }
            var losses = [try optimizer.start(evaluate: evaluate, reduce: reduce).total]
            for _ in 0..<iterations { losses.append(try optimizer.iterate(evaluate: evaluate, reduce: reduce).outcome.loss) }
            return losses
        }
        #expect(results[0] == results[1])
        for (i, (a, b)) in zip(results[0], whole.losses).enumerated() {
            // Measured: 2e-10 after one iteration, 1.7e-6 after twelve.
            #expect(abs(a - b) <= 1e-5 * b, "iteration \(i): \(a) against \(b)")
        }
    }
}
