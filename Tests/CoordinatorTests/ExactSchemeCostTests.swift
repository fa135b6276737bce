import Foundation
import Testing
@testable import Coordinator
import Engine
import Farm

/// The exact scheme's cost model, and what the planner puts into shard orders with it.
struct ExactSchemeCostTests {
    let layers = ["block1_relu1", "block2_relu1", "block3_relu1", "block4_relu1", "block5_relu1"]

    @Test func windowPixelsAreTheLargestShardsWindowsForEachScheme() throws {
        // 512² in 128-pixel tiles, 4 shards of one tile row each, a 256-pixel halo for both
        // schemes (more than either needs). Shard 2 (row 1): wide-halo windows are 384, 512,
        // 512 and 384 wide, all 512 tall; its band is rows 0…384 (128 − 256 clamped to 0, 256 + 256 clamped to 512).
        let model = ExactSchemeCost()
        let wide = try model.estimate(.wideHalo, width: 512, height: 512, tile: 128, shards: 4, layers: layers, halo: 256, lbfgs: false)
        #expect(wide.windowPixels == (384 + 512 + 512 + 384) * 512)
        #expect(wide.roundsPerIteration == 2 && wide.halo == 256)
        let exchange = try model.estimate(.gradientExchange, width: 512, height: 512, tile: 128, shards: 4, layers: layers, halo: 256,
                                          lbfgs: true)
        #expect(exchange.windowPixels == 512 * 512, "a middle shard's band reaches both image edges with this halo")
        #expect(exchange.roundsPerIteration == 4, "sums, gradients, pixels and L-BFGS's dot products")
    }

    @Test func eachSchemeGetsItsOwnHaloAndATooSmallOneIsRefused() throws {
        let model = ExactSchemeCost()
        let wide = try model.estimate(.wideHalo, width: 1024, height: 1024, tile: 256, shards: 2, layers: layers, halo: nil, lbfgs: false)
        let exchange = try model.estimate(.gradientExchange, width: 1024, height: 1024, tile: 256, shards: 2, layers: layers, halo: nil,
                                          lbfgs: false)
        #expect(wide.halo >= (try VGG19Architecture.exactHalo(for: layers)) && wide.halo % 16 == 0)
        #expect(exchange.halo >= (try VGG19Architecture.forwardHalo(for: layers)) && exchange.halo < wide.halo)
        let error = #expect(throws: EngineError.self) {
            try model.estimate(.wideHalo, width: 1024, height: 1024, tile: 256, shards: 2, layers: layers, halo: exchange.halo, lbfgs: false)
        }
        #expect(error?.message.contains("--halo") == true)
    }

    @Test func autoTakesTheCheaperScheme() throws {
        // Compute-bound: the band is far fewer pixels than the wide windows.
        let (chosen, estimates) = try ExactSchemeCost().choose(.auto, width: 2048, height: 2048, tile: 256, shards: 4, layers: layers,
                                                               halo: nil, lbfgs: false)
        #expect(chosen.scheme == .gradientExchange && estimates.count == 2)
        #expect(estimates[0].windowPixels > estimates[1].windowPixels)
        // Rounds dominate when pixels cost nothing: one round fewer wins.
        let latencyBound = try ExactSchemeCost(secondsPerPixel: 0, secondsPerRound: 1).choose(
            .auto, width: 2048, height: 2048, tile: 256, shards: 4, layers: layers, halo: nil, lbfgs: false)
        #expect(latencyBound.chosen.scheme == .wideHalo)
        // Asked for by name: that one, whatever it costs.
        let asked = try ExactSchemeCost().choose(.wideHalo, width: 2048, height: 2048, tile: 256, shards: 4, layers: layers, halo: nil,
                                                 lbfgs: false)
        #expect(asked.chosen.scheme == .wideHalo)
    }
}

struct TiledPlannerExactTests {
    let base = RenderRequest(contentPath: "content.png", stylePaths: ["style.png"])

    func shardOrders(_ spec: TiledSpec) throws -> [ShardOrder] {
        try TiledPlanner.plan(spec, contentWidth: 400, contentHeight: 300).compactMap { task in
            guard task.kind == .shard, let stored = task.storedRequest, case .shard(let order) = try WorkOrder.decode(stored) else { return nil }
            return order
        }
    }

    @Test func anExactJobMayOptimiseWithLBFGSAndDefaultsToAdam() throws {
        var lbfgs = base
        lbfgs.optimizer = .lbfgs
        let orders = try shardOrders(TiledSpec(base: lbfgs, size: 1024, tile: 256, mode: .exact, shards: 2))
        #expect(orders.count == 2 && orders.allSatisfy { $0.render.optimizer == .lbfgs })
        #expect(try shardOrders(TiledSpec(base: base, size: 1024, tile: 256, mode: .exact)).allSatisfy { $0.render.optimizer == .adam })
    }

    @Test func shardOrdersCarryTheChosenSchemeItsHaloAndTheCheckpointInterval() throws {
        let auto = try shardOrders(TiledSpec(base: base, size: 2048, tile: 256, mode: .exact, shards: 2))
        let layers = TiledPlanner.tappedLayers(try base.resolve())
        let forward = try VGG19Architecture.forwardHalo(for: layers)
        #expect(auto.allSatisfy { $0.scheme == .gradientExchange && $0.columns == 1 && $0.checkpointEvery == 10 }, "\(auto)")
        #expect(auto.allSatisfy { ($0.halo ?? 0) >= forward && ($0.halo ?? 0) < forward + 16 })
        #expect(auto.map(\.shardIndex) == [0, 1] && auto.allSatisfy { $0.resumePath == nil })

        let wide = try shardOrders(TiledSpec(base: base, size: 2048, tile: 256, mode: .exact, shards: 2, exactScheme: .wideHalo,
                                             checkpointEvery: 0))
        #expect(wide.allSatisfy { $0.scheme == .wideHalo && $0.columns == nil && $0.checkpointEvery == nil })
        let exact = try VGG19Architecture.exactHalo(for: layers)
        #expect(wide.allSatisfy { ($0.halo ?? 0) >= exact })
        // A shard is placed by the memory model's peak for its band (one window), recorded as
        // the pixels whose footprint is those bytes.
        let tasks = try TiledPlanner.plan(TiledSpec(base: base, size: 2048, tile: 256, mode: .exact, shards: 2), contentWidth: 400, contentHeight: 300)
        let shard = try #require(tasks.first { $0.kind == .shard })
        let predicted = try auto[0].predictedPeakBytes()
        #expect(shard.peakPixels == TaskFootprint.pixels(forBytes: predicted))
        #expect(try #require(TaskFootprint.bytes(forPixels: shard.peakPixels)) - predicted < TaskFootprint.bytesPerPixel)
        // 2048×1536: six tile rows, three a shard; the band's activations alone are ≥ 1.2 KB a pixel.
        let bandHeight = 3 * 256 + 2 * (auto[0].halo ?? 0)
        #expect(predicted > 2048 * min(1536, bandHeight) * 1200)
    }

    /// Style targets are computed window by window above 640²: a 4096² job's targets must not
    /// look like 4096² at once, or no worker would ever take them (a 4096² exact job waited for
    /// a 48 GB worker).
    @Test func styleTargetsAtAnyOutputSizeNeedAtMostA640Window() throws {
        for size in [256, 4096] {
            let tasks = try TiledPlanner.plan(TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: size, tile: 256,
                                                        mode: .exact, shards: 1), contentWidth: 400, contentHeight: 400)
            let targets = try #require(tasks.first { $0.kind == .styleTargets })
            #expect(targets.peakPixels == min(size * size, 640 * 640), "\(size): \(targets.peakPixels)")
        }
    }

    @Test(arguments: [
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 1024, tile: 256, halo: 32, mode: .exact,
                   exactScheme: .wideHalo), "--halo"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 1024, tile: 256, mode: .exact, checkpointEvery: -1),
         "--checkpoint-every"),
    ])
    func badExactOptionsAreRefusedWithTheReason(spec: TiledSpec, reason: String) {
        let error = #expect(throws: EngineError.self) { try TiledPlanner.plan(spec, contentWidth: 400, contentHeight: 300) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }

    @Test func aSpecFromBeforeTheSchemeAndCheckpointsStillDecodes() throws {
        let old = Data(#"{"base":{"contentPath":"c","stylePaths":["s"]},"size":512,"tile":128,"mode":"exact","bitDepth":8,"priority":0}"#.utf8)
        let spec = try JSONDecoder().decode(TiledSpec.self, from: old)
        #expect(spec.exactScheme == nil && spec.checkpointEvery == nil)
    }
}
