import Foundation
import Testing
@testable import Coordinator
import Engine
import Farm

struct TiledPlannerTests {
    let base = RenderRequest(contentPath: "content.png", stylePaths: ["style.png"])

    @Test func theDagIsCoarseAndTargetsThenEveryTileThenTheStitch() throws {
        let spec = TiledSpec(base: base, size: 1000, tile: 256)
        let tasks = try TiledPlanner.plan(spec, contentWidth: 400, contentHeight: 300)
        #expect(tasks.map(\.key).prefix(2) == ["coarse", "style-targets"])
        let tiles = tasks.filter { $0.kind == .tile }
        #expect(tiles.count == 4 * 3, "1000×750 in 256-pixel tiles")
        #expect(tiles.allSatisfy { $0.dependsOn == ["coarse", "style-targets"] })
        let stitch = try #require(tasks.last)
        #expect(stitch.kind == .stitch && stitch.dependsOn == tiles.map(\.key))
        let plan = try JSONDecoder().decode(StitchPlan.self, from: try #require(stitch.storedRequest))
        #expect(plan == StitchPlan(width: 1000, height: 750, tile: 256, halo: 64, bitDepth: 8))

        let coarse = tasks[0].request
        #expect(coarse.size == 512 && coarse.scales == 2, "a coarse-to-fine pass one worker handles")
        guard case .tile(let first) = try WorkOrder.decode(try #require(tiles[0].storedRequest)) else {
            Issue.record("a tile's stored request is a tile order")
            return
        }
        #expect(first.render.initialization == "task:coarse" && first.styleTargetsPath == "task:style-targets")
        #expect(first.interior == PixelRect(x: 0, y: 0, width: 256, height: 256))
        #expect(first.window == PixelRect(x: 0, y: 0, width: 320, height: 320))
        #expect(first.render.size == 1000 && first.outputWidth == 1000 && first.outputHeight == 750)
    }

    @Test func anExplicitSizeIsKeptAndAHugeOneRaisesThePixelLimitOnlyForTiles() throws {
        let spec = TiledSpec(base: base, width: 16384, height: 8192, tile: 512)
        let tasks = try TiledPlanner.plan(spec, contentWidth: 400, contentHeight: 300)
        #expect(tasks.filter { $0.kind == .tile }.count == 32 * 16)
        #expect(tasks[0].request.maxPixels == nil)
        #expect(tasks[1].request.maxPixels == 16384 * 16384)
    }

    @Test(arguments: [
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 512, tile: 100), "multiple of 16"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 512, tile: 128, halo: 200), "--halo"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 512, tile: 128, mode: .exact, shards: 5), "--shards 5"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 512, tile: 120, mode: .exact), "multiple of 16"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 512, tile: 128, bitDepth: 12), "bit-depth"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), tile: 128), "--size"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 2_000_000, tile: 128), "out of range"),
        (TiledSpec(base: RenderRequest(contentPath: "c", stylePaths: ["s"]), size: 100_000, tile: 64), "more than"),
    ])
    func badSpecsAreRefusedWithTheReason(spec: TiledSpec, reason: String) {
        let error = #expect(throws: EngineError.self) { try TiledPlanner.plan(spec, contentWidth: 400, contentHeight: 300) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }

    @Test func optionsATileCannotHonourAreRefused() {
        var masked = base
        masked.maskPaths = ["mask.png"]
        var denoised = base
        denoised.denoise = 0.05
        var coloured = base
        coloured.preserveColor = .luminance
        for request in [masked, denoised, coloured] {
            #expect(throws: EngineError.self) { try TiledPlanner.plan(TiledSpec(base: request, size: 512, tile: 128), contentWidth: 4, contentHeight: 3) }
        }
    }
}
