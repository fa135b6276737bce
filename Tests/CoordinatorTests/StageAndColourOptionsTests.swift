import Testing
@testable import Coordinator
import Engine

/// `--preserve-color`, `--scales`/`--scale-sizes`/`--scale-iterations`, `--style-scale` and
/// `--denoise` in farm jobs: sweepable where numeric, and spelled in `job.json`'s command.
struct StageAndColourOptionsTests {
    func base() -> RenderRequest {
        var r = RenderRequest(contentPath: "content.png", stylePaths: ["a.png", "b.png"])
        r.size = 256
        return r
    }

    @Test func scalesDenoiseAndStyleScaleCanBeSwept() throws {
        let spec = SweepSpec(base: base(), gammas: [0.5], axes: [
            try SweepAxis(parsing: "scales=1,3"), try SweepAxis(parsing: "denoise=0:0.1:0.1"), try SweepAxis(parsing: "style-scale=0.5,2"),
        ])
        let tasks = try SweepPlanner.plan(spec)
        #expect(tasks.count == 8)
        #expect(tasks[0].key == "gamma=0.5,scales=1,denoise=0,style-scale=0.5")
        let last = try tasks[7].request.resolve()
        #expect(last.stageSizes == [64, 128, 256] && last.denoise == 0.1 && last.styleScale == 2)
        #expect(try tasks[0].request.resolve().stageSizes == [256])
    }

    @Test func aSweptScaleCountMustBeWhole() {
        let error = #expect(throws: EngineError.self) {
            try SweepPlanner.plan(SweepSpec(base: base(), gammas: [0.5], axes: [try SweepAxis(parsing: "scales=1.5")]))
        }
        #expect(error?.message.contains("--sweep scales needs whole numbers") == true, "got \(error?.message ?? "")")
    }

    @Test func aBadSweptValueNamesThePoint() {
        let error = #expect(throws: EngineError.self) {
            try SweepPlanner.plan(SweepSpec(base: base(), gammas: [0.5], axes: [try SweepAxis(parsing: "denoise=-1,0")]))
        }
        #expect(error?.message.contains("--denoise must be a finite number ≥ 0") == true, "got \(error?.message ?? "")")
    }

    @Test func theRerenderCommandSpellsEveryNewOption() {
        var request = base()
        request.preserveColor = .luminance
        request.scaleSizes = [64, 128, 256]
        request.scaleIterations = [50, 20, 10]
        request.styleScale = 1.5
        request.denoise = 0.05
        let words = RenderCommandLine.arguments(for: request, output: "out.png")
        #expect(words.joined(separator: " ").hasSuffix(
            "--preserve-color luminance --scale-sizes 64,128,256 --scale-iterations 50,20,10 --style-scale 1.5 --denoise 0.05 --out out.png"))
        request.scaleSizes = nil
        request.scales = 3
        #expect(RenderCommandLine.arguments(for: request, output: "o.png").joined(separator: " ").contains("--scales 3 "))
        // Unset options stay unspelled, so a plain job's command does not change.
        #expect(!RenderCommandLine.arguments(for: base(), output: "o.png").contains { $0.hasPrefix("--scale") || $0 == "--denoise" })
    }
}
