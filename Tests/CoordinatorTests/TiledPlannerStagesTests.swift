import Foundation
import Testing
@testable import Coordinator
import Engine
import Farm

/// Exact jobs coarse to fine (`--scale-sizes`) and their shards sized by the memory model.
struct TiledPlannerStagesTests {
    let roomy = ExactCapacity(workers: 2, smallestMemory: 64 << 30)

    static func staged(_ sizes: [Int], iterations: [Int]? = nil, content: Bool = true, size: Int? = 1024, tile: Int = 128,
                scheme: ExactSchemeCost.Choice? = nil, shards: Int? = nil, memory: Int? = nil) -> TiledSpec {
        var base = RenderRequest(contentPath: "content.png", stylePaths: ["style.png"])
        base.scaleSizes = sizes
        base.scaleIterations = iterations
        base.iterations = 5
        if content { base.initialization = "content" }
        return TiledSpec(base: base, size: size, tile: tile, mode: .exact, shards: shards, exactScheme: scheme, workerMemory: memory)
    }

    func order(_ task: PlannedTask) throws -> ShardOrder? {
        guard task.kind == .shard, let stored = task.storedRequest, case .shard(let order) = try WorkOrder.decode(stored) else { return nil }
        return order
    }

    func stitchPlan(_ task: PlannedTask) throws -> StitchPlan {
        try JSONDecoder().decode(StitchPlan.self, from: try #require(task.storedRequest))
    }

    @Test func eachStageHasItsTargetsShardsAndStitchAndStartsFromTheStageBefore() throws {
        let tasks = try TiledPlanner.plan(Self.staged([256, 512, 1024], iterations: [20, 6, 3]), contentWidth: 400, contentHeight: 300,
                                          capacity: roomy)
        #expect(tasks.map(\.key) == ["style-targets-1", "shard-1-1", "shard-1-2", "stitch-1",
                                     "style-targets-2", "shard-2-1", "shard-2-2", "stitch-2",
                                     "style-targets", "shard-1", "shard-2", "stitch"])
        let byKey = Dictionary(uniqueKeysWithValues: tasks.map { ($0.key, $0) })
        let sizes = [(256, 192), (512, 384), (1024, 768)]
        for (offset, (width, height)) in sizes.enumerated() {
            let stage = offset + 1, last = stage == 3
            let targetsKey = last ? "style-targets" : "style-targets-\(stage)"
            let shardKeys = last ? ["shard-1", "shard-2"] : ["shard-\(stage)-1", "shard-\(stage)-2"]
            let stitchKey = last ? "stitch" : "stitch-\(stage)"
            let start = stage == 1 ? [] : ["stitch-\(stage - 1)"]

            let targets = try #require(byKey[targetsKey])
            guard case .styleTargets(let targetsOrder) = try WorkOrder.decode(try #require(targets.storedRequest)) else {
                Issue.record("\(targetsKey) is a style-targets order")
                return
            }
            #expect(targets.dependsOn.isEmpty && targetsOrder.outputWidth == width && targetsOrder.outputHeight == height,
                    "stage \(stage)'s targets at its own size")
            for (index, key) in shardKeys.enumerated() {
                let task = try #require(byKey[key])
                let shard = try #require(try order(task))
                #expect(task.dependsOn == start + [targetsKey], "\(key): \(task.dependsOn)")
                #expect(shard.render.initialization == (stage == 1 ? "content" : "task:stitch-\(stage - 1)"))
                #expect(shard.styleTargetsPath == "task:" + targetsKey)
                #expect(shard.outputWidth == width && shard.outputHeight == height && shard.render.size == width)
                #expect(shard.render.iterations == [20, 6, 3][offset])
                #expect(shard.shardIndex == index && shard.shardCount == 2)
                #expect(shard.stage == stage && shard.stageNumber == stage)
                #expect(shard.render.scaleSizes == nil, "a shard renders its stage once")
            }
            let stitch = try #require(byKey[stitchKey])
            let plan = try stitchPlan(stitch)
            #expect(stitch.dependsOn == shardKeys && plan.bands == shardKeys)
            #expect(plan.width == width && plan.height == height)
            #expect(stitch.outputName == (last ? "output.png" : "stage-\(stage).png"))
            #expect(plan.bitDepth == (last ? 8 : 16) && plan.preview == (last ? nil : false))
        }
    }

    @Test func withoutInitContentTheFirstStageStartsFromTheCoarsePass() throws {
        let tasks = try TiledPlanner.plan(Self.staged([512, 1024], content: false), contentWidth: 400, contentHeight: 300, capacity: roomy)
        #expect(tasks.first?.key == "coarse")
        #expect(tasks.first?.request.scaleSizes == nil, "the stages are the shards', not the coarse pass's")
        let first = try #require(tasks.first { $0.key == "shard-1-1" })
        #expect(first.dependsOn == ["coarse", "style-targets-1"])
        #expect(try order(first)?.render.initialization == "task:coarse")
        #expect(try order(try #require(tasks.first { $0.key == "shard-1" }))?.render.initialization == "task:stitch-1")
    }

    @Test func anAskedShardCountBeyondAnEarlyStagesRowsTakesOneShardARowThere() throws {
        // Stage 1, 256×192, has two tile rows; the output, 1024×768, six.
        let tasks = try TiledPlanner.plan(Self.staged([256, 1024], shards: 4), contentWidth: 400, contentHeight: 300, capacity: roomy)
        #expect(tasks.filter { $0.kind == .shard }.map(\.key) == ["shard-1-1", "shard-1-2", "shard-1", "shard-2", "shard-3", "shard-4"])
        let error = #expect(throws: EngineError.self) {
            try TiledPlanner.plan(Self.staged([256, 1024], shards: 7), contentWidth: 400, contentHeight: 300, capacity: roomy)
        }
        #expect(error?.message.contains("--shards 7 must be 1…6") == true, "\(error?.message ?? "no error")")
    }

    @Test func aJobOfOneStageKeepsItsKeysAndHasNoStage() throws {
        var base = RenderRequest(contentPath: "content.png", stylePaths: ["style.png"])
        base.initialization = "content"
        let tasks = try TiledPlanner.plan(TiledSpec(base: base, size: 1024, tile: 128, mode: .exact), contentWidth: 400, contentHeight: 300,
                                          capacity: roomy)
        #expect(tasks.map(\.key) == ["style-targets", "shard-1", "shard-2", "stitch"])
        #expect(try tasks.compactMap(order).allSatisfy { $0.stage == nil && $0.render.initialization == "content" })
    }

    /// Auto: the fewer of tile rows and connected workers (at least 1). An explicit number is
    /// kept whatever is connected (the gang waits for that many workers).
    @Test(arguments: [(workers: 0, asked: nil, expected: 1), (3, nil, 3), (40, nil, 6), (3, 2, 2), (1, 4, 4), (0, 2, 2)] as [(Int, Int?, Int)])
    func autoShardsAreTheFewerOfRowsAndWorkersAndAnAskedNumberIsKept(workers: Int, asked: Int?, expected: Int) throws {
        // 1024×768 in 128-pixel tiles: six tile rows.
        let tasks = try TiledPlanner.plan(Self.staged([1024], shards: asked), contentWidth: 400, contentHeight: 300,
                                          capacity: ExactCapacity(workers: workers, smallestMemory: 64 << 30))
        #expect(tasks.filter { $0.kind == .shard }.count == expected)
    }

    /// The largest shard's predicted peak with `columns` windows across, as the planner computes it.
    func peak(_ spec: TiledSpec, shards: Int, columns: Int) throws -> Int {
        var request = spec.base
        request.size = 1024
        request.scaleSizes = nil
        request.scaleIterations = nil
        request.optimizer = .adam
        let settings = try request.resolve()
        let halo = try ExactSchemeCost().estimate(.gradientExchange, width: 1024, height: 768, tile: spec.tile, shards: shards,
                                                  layers: TiledPlanner.tappedLayers(settings), halo: nil, lbfgs: false).halo
        return try (0..<shards).map {
            try ShardOrder.predictedPeakBytes(settings: settings, width: 1024, height: 768, tile: spec.tile, halo: halo,
                                              scheme: .gradientExchange, shards: shards, index: $0, columns: columns)
        }.max() ?? 0
    }

    @Test func columnsAreTheFewestWindowsWhosePeakFitsTheBudget() throws {
        let spec = Self.staged([1024], scheme: .gradientExchange, shards: 2)
        let one = try peak(spec, shards: 2, columns: 1), four = try peak(spec, shards: 2, columns: 4)
        #expect(four < one, "recomputing narrower windows holds less: \(four) against \(one)")

        // A budget the single window fits: one column, no recomputation.
        var roomy = spec
        roomy.workerMemory = one
        let wide = try TiledPlanner.plan(roomy, contentWidth: 400, contentHeight: 300, capacity: self.roomy).compactMap(order)
        #expect(wide.count == 2 && wide.allSatisfy { $0.columns == 1 })

        // A budget only four columns' peak fits (or fewer, if they fit too): the fewest that do.
        var tight = spec
        tight.workerMemory = four
        let narrow = try TiledPlanner.plan(tight, contentWidth: 400, contentHeight: 300, capacity: self.roomy).compactMap(order)
        let columns = try #require(narrow.first?.columns)
        #expect(narrow.count == 2 && narrow.allSatisfy { $0.columns == columns && $0.scheme == .gradientExchange })
        #expect((2...4).contains(columns))
        #expect(try peak(spec, shards: 2, columns: columns) <= four)
        for fewer in 1..<columns { #expect(try peak(spec, shards: 2, columns: fewer) > four, "\(fewer) columns would not fit") }
        #expect(try narrow.map { try $0.predictedPeakBytes() }.max() ?? .max <= four)
    }

    @Test func theConnectedWorkersSmallestMemoryIsTheBudgetUnlessOneIsGiven() throws {
        let spec = Self.staged([1024], scheme: .gradientExchange, shards: 2)
        let four = try peak(spec, shards: 2, columns: 4)
        let fromWorkers = try TiledPlanner.plan(spec, contentWidth: 400, contentHeight: 300,
                                                capacity: ExactCapacity(workers: 2, smallestMemory: four)).compactMap(order)
        #expect(fromWorkers.allSatisfy { ($0.columns ?? 1) > 1 }, "the workers' memory sizes the windows")
        var given = spec
        given.workerMemory = 64 << 30
        let overridden = try TiledPlanner.plan(given, contentWidth: 400, contentHeight: 300,
                                               capacity: ExactCapacity(workers: 2, smallestMemory: four)).compactMap(order)
        #expect(overridden.allSatisfy { $0.columns == 1 }, "--worker-memory wins")
    }

    @Test(arguments: [
        (TiledPlannerStagesTests.staged([1024, 512]), "ascending"),
        (TiledPlannerStagesTests.staged([128, 256, 384, 512, 640, 768, 1024]), "at most 6"),
        (TiledPlannerStagesTests.staged([64, 1024]), "smaller than one 128-px tile"),
        (TiledPlannerStagesTests.staged([256, 512]), "must end with the output's longest side, 1024"),
        (TiledPlannerStagesTests.staged([512, 1024], iterations: [3]), "--scale-iterations"),
        (TiledPlannerStagesTests.staged([512, 1024], memory: 128 << 20), "Connect more workers"),
        (TiledPlannerStagesTests.staged([512, 1024], scheme: .wideHalo, memory: 200 << 20), "wide-halo"),
    ])
    func nonsenseIsRefusedWithTheReason(spec: TiledSpec, reason: String) {
        let error = #expect(throws: EngineError.self) {
            try TiledPlanner.plan(spec, contentWidth: 400, contentHeight: 300, capacity: ExactCapacity(workers: 2, smallestMemory: nil))
        }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }

    @Test func memorySizesReadAsTyped() {
        #expect(MemorySize.bytes("1.5G") == 3 << 29)
        #expect(MemorySize.bytes("1536M") == 1536 << 20)
        #expect(MemorySize.bytes("2GiB") == 2 << 30)
        #expect(MemorySize.bytes("4096") == 4096)
        #expect(MemorySize.bytes("lots") == nil && MemorySize.bytes("-1G") == nil && MemorySize.bytes("1e30G") == nil)
    }
}
