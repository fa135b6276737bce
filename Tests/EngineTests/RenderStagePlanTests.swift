import Foundation
import Testing
import TestSupport
@testable import Engine

/// `--scales`, `--scale-sizes`, `--scale-iterations`, `--style-scale`, `--preserve-color` and
/// `--denoise` as requests resolve them, without rendering.
struct RenderStagePlanTests {
    func request(_ change: (inout RenderRequest) -> Void = { _ in }) -> RenderRequest {
        var r = RenderRequest(contentPath: "c.png", stylePaths: ["s.png"])
        change(&r)
        return r
    }

    @Test(arguments: [(1024, 3, [256, 512, 1024]), (1000, 3, [250, 500, 1000]), (129, 2, [65, 129]), (64, 3, [16, 32, 64])])
    func scalesHalveDownFromTheSize(size: Int, scales: Int, sizes: [Int]) throws {
        let s = try request { $0.size = size; $0.scales = scales }.resolve()
        #expect(s.stageSizes == sizes && s.size == size)
        #expect(s.stageIterations == [Int](repeating: s.iterations, count: scales), "--iterations is per stage")
    }

    @Test func oneScaleIsAPlainRender() throws {
        let s = try request { $0.size = 300; $0.scales = 1 }.resolve()
        #expect(s.scaleSizes.isEmpty && s.stageSizes == [300])
    }

    @Test func explicitSizesSetTheOutputSizeAndIterationsMayDifferPerStage() throws {
        let s = try request { $0.scaleSizes = [200, 350, 700]; $0.scaleIterations = [300, 100, 50] }.resolve()
        #expect(s.size == 700 && s.stageSizes == [200, 350, 700])
        #expect(s.stageIterations == [300, 100, 50] && s.plannedIterations == 450)
        #expect(try request { $0.size = 700; $0.scaleSizes = [200, 700] }.resolve().stageSizes == [200, 700])
    }

    @Test func eachStagesSettingsAreASingleSizeRenderWithItsOwnIterations() throws {
        let s = try request {
            $0.scaleSizes = [128, 256, 512]; $0.scaleIterations = [30, 20, 10]; $0.styleSize = 400
            $0.denoise = 0.1; $0.preserveColor = .histogram; $0.styleScale = 1.5
        }.resolve()
        let first = s.stage(0), last = s.stage(2)
        #expect(first.size == 128 && first.iterations == 30 && first.stageSizes == [128])
        #expect(first.styleSize == 100, "an explicit --style-size is for the output; a quarter-size stage gets a quarter")
        #expect(last.size == 512 && last.iterations == 10 && last.styleSize == 400)
        #expect(first.denoise == 0 && last.denoise == 0, "stages do not finish the image")
        #expect(first.preserveColor == .histogram && first.styleScale == 1.5)
        #expect(throws: Never.self) { try first.validate() }
    }

    @Test func theNewOptionsRoundTripThroughJSON() throws {
        let r = request { $0.preserveColor = .luminance; $0.scales = 2; $0.styleScale = 0.5; $0.denoise = 0.05; $0.scaleIterations = [5, 3] }
        let decoded = try JSONDecoder().decode(RenderRequest.self, from: JSONEncoder().encode(r))
        #expect(decoded == r)
        let text = String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
        #expect(text.contains("\"preserveColor\":\"luminance\""))
        let s = try r.resolve()
        #expect(try JSONDecoder().decode(RenderSettings.self, from: JSONEncoder().encode(s)) == s)
    }

    static let refused: [(String, String, @Sendable (inout RenderRequest) -> Void)] = [
        ("descending sizes", "--scale-sizes 512,256 must ascend", { $0.scaleSizes = [512, 256] }),
        ("repeated size", "must ascend, coarse to fine (e.g. 256,512,1024): 256 follows 256", { $0.scaleSizes = [256, 256, 512] }),
        ("zero size", "--scale-sizes 0,512: 0 px is out of range", { $0.scaleSizes = [0, 512] }),
        ("negative size", "-64 px is out of range", { $0.scaleSizes = [-64, 512] }),
        ("too small a stage", "every stage needs at least 16 px", { $0.scaleSizes = [8, 512] }),
        ("empty list", "--scale-sizes is empty", { $0.scaleSizes = [] }),
        ("a stage larger than --size", "--size 512 is not the last of --scale-sizes (256,1024)", { $0.size = 512; $0.scaleSizes = [256, 1024] }),
        ("both forms", "not both", { $0.scales = 2; $0.scaleSizes = [256, 512] }),
        ("zero scales", "--scales must be at least 1", { $0.scales = 0 }),
        ("negative scales", "--scales must be at least 1", { $0.scales = -2 }),
        ("too many scales", "use at most 3 scales at this size", { $0.size = 64; $0.scales = 4 }),
        ("absurd scales", "use at most", { $0.size = 512; $0.scales = 1_000_000 }),
        ("iterations per stage count", "--scale-iterations gives 2 counts for 3 stages", { $0.scales = 3; $0.scaleIterations = [10, 10] }),
        ("zero stage iterations", "every stage needs at least 1 iteration", { $0.scales = 2; $0.scaleIterations = [10, 0] }),
        ("zero style scale", "--style-scale must be a number > 0", { $0.styleScale = 0 }),
        ("NaN style scale", "--style-scale must be a number > 0", { $0.styleScale = .nan }),
        ("negative denoise", "--denoise must be a finite number ≥ 0", { $0.denoise = -0.1 }),
        ("infinite denoise", "--denoise must be a finite number ≥ 0", { $0.denoise = .infinity }),
    ]

    @Test(arguments: refused.indices)
    func badStageAndFinishingValuesAreRefusedSayingWhatIsAllowed(index: Int) {
        let (_, message, change) = Self.refused[index]
        let error = expectEngineError(.invalidArgument) { _ = try request(change).resolve() }
        #expect(error?.message.contains(message) == true, "got: \(error?.message ?? "no error")")
    }

    @Test func settingsChangedAfterResolvingAreCheckedToo() throws {
        var s = try request { $0.scaleSizes = [100, 200] }.resolve()
        s.size = 300
        let error = #expect(throws: EngineError.self) { try s.validate() }
        #expect(error?.message.contains("must be the output --size 300") == true)
    }

    @Test func aCoarseToFineLogHasStageColumnsAndAPlainOneHasNone() throws {
        let losses = LossBreakdown(total: 6, content: 1, styles: [2, 3], tv: 0.5)
        let staged = RenderProgress(iteration: 13, iterations: 30, losses: losses, elapsed: 2.5, evaluations: 20,
                                    stage: .init(index: 2, count: 3, width: 64, height: 48, iteration: 3, iterations: 10))
        #expect(LossLogWriter.row(staged, stageColumns: true) == "2,64,48,3,6.0,1.0,2.0,3.0,0.5,2.500")
        let dir = try TemporaryDirectory()
        let log = try LossLogWriter(path: dir.path("log.csv"), styleCount: 2, stageCount: 3)
        try log.append(staged)
        let plain = try LossLogWriter(path: dir.path("plain.csv"), styleCount: 2)
        try plain.append(RenderProgress(iteration: 3, iterations: 10, losses: losses, elapsed: 1, evaluations: 4))
        #expect(try String(contentsOfFile: dir.path("log.csv"), encoding: .utf8)
            == "stage,width,height,iteration,total,content,style_1,style_2,tv,elapsed_s,ri_1,ri_2,sigma_1,sigma_2\n2,64,48,3,6.0,1.0,2.0,3.0,0.5,2.500,1.0,1.0,1.0,1.0\n")
        #expect(try String(contentsOfFile: dir.path("plain.csv"), encoding: .utf8)
            == "iteration,total,content,style_1,style_2,tv,elapsed_s,ri_1,ri_2,sigma_1,sigma_2\n3,6.0,1.0,2.0,3.0,0.5,1.000,1.0,1.0,1.0,1.0\n")
    }
}
