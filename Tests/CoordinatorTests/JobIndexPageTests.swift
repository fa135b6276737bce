import Foundation
import Testing
import TestSupport
@testable import Coordinator
@testable import Engine
import Protocol

struct JobIndexPageTests {
    static let hostile = "</svg><script>alert(1)</script>"

    func write(_ names: [String], in folder: TemporaryDirectory) throws {
        for name in names {
            let path = folder.path(name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if name.hasSuffix(".png") {
                try ImageFile.writePNG(RGBImage(width: 8, height: 6, fill: 100), path: path)
            } else {
                try Data("x".utf8).write(to: URL(fileURLWithPath: path))
            }
        }
    }

    func summary(gamma: Float) throws -> RenderSummary {
        var request = RenderRequest(contentPath: "c.png", stylePaths: ["a.png", "b.png"])
        request.gamma = gamma
        let losses = LossBreakdown(total: 1234.5, content: 10, styles: [600, 624.5], tv: 0)
        return RenderSummary(settings: try request.resolve(), contentSize: [8, 6], styleSizes: [[8, 6], [8, 6]],
                             initialLosses: losses, finalLosses: losses, relativeImprovement: [3.25, 1.5], iterationsRun: 10,
                             evaluations: 12, stoppedEarly: nil,
                             timings: .init(loadSeconds: 0, targetSeconds: 0, optimizeSeconds: 1, secondsPerIteration: 0.1, totalSeconds: 1),
                             peakRssMb: 1, blasCore: "test")
    }

    /// Every local link of `report` names a file in `folder`.
    func expectLinksExist(_ report: HTMLCheck.Report, in folder: TemporaryDirectory) {
        #expect(!report.links.isEmpty)
        for link in report.links {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: folder.path(link), isDirectory: &isDirectory) && !isDirectory.boolValue,
                    "links to \(link), which is not a file in the folder")
        }
    }

    @Test func aSweepPageShowsEveryPointAndLinksOnlyToFilesThatExist() throws {
        let folder = try TemporaryDirectory()
        // gamma-1.png is missing (its point did not finish); a write in progress is not listed.
        try write(["gamma-0.png", "gamma-0.5.png", "job.json", "losses.csv", "contact_sheet.png", "relative_improvement.svg",
                   "losses/gamma-0.svg", "losses/gamma-1.svg.partial-12-34", "index.html"], in: folder)
        let files = JobFolderFiles(directory: folder.url.path)
        #expect(!files.contains("index.html") && !files.files.contains { $0.path.contains("partial") })
        #expect(files.contains("losses/gamma-0.svg"))

        var spec = SweepSpec(base: RenderRequest(contentPath: "c.png", stylePaths: ["a.png", "b.png"]), gammas: [0, 0.5, 1])
        spec.styleNames = [Self.hostile, "the_scream.jpg"]
        let planned = try SweepPlanner.plan(spec)
        let summaries = ["gamma=0": try summary(gamma: 0), "gamma=0.5": try summary(gamma: 0.5)]
        let lossPlot = LossCurves(lines: [.init(iteration: 0, total: 5, content: 1, styles: [2, 2], tv: 0, elapsed: 0),
                                          .init(iteration: 1, total: 4, content: 1, styles: [1, 2], tv: 0, elapsed: 1)],
                                  styleNames: spec.styleNames ?? []).svg()
        let points = planned.map { task in
            JobIndexPage.SweepPoint(key: task.key, outputName: task.outputName, parameters: task.parameters, summary: summaries[task.key],
                                    lossPlotFile: task.key == "gamma=0" ? "losses/gamma-0.svg" : nil,
                                    lossPlotSVG: task.key == "gamma=0" ? lossPlot : nil)
        }
        let plot = ImprovementPlot(points: [.init(gamma: 0, relativeImprovement: [1, 3]), .init(gamma: 0.5, relativeImprovement: [3, 1])],
                                   styleNames: spec.styleNames ?? []).svg()
        let html = JobIndexPage.sweep(jobID: "job-\(Self.hostile)", spec: spec, styleNames: spec.styleNames ?? [], points: points,
                                      improvementPlotSVG: plot, finishedAt: "2026-11-22T10:00:00Z", files: files)
        let report = try HTMLCheck.run(html)
        #expect(report.errors.isEmpty, "\(report.errors)")
        expectLinksExist(report, in: folder)
        #expect(report.links.contains("gamma-0.5.png") && report.links.contains("job.json") && report.links.contains("losses/gamma-0.svg"))
        #expect(!report.links.contains("gamma-1.png"))
        for gamma in ["γ = 0", "γ = 0.5", "γ = 1"] { #expect(report.text.contains(gamma), "\(gamma) is on the page") }
        #expect(report.text.contains(Self.hostile), "the hostile name is shown as text")
        #expect(report.text.contains("RI₁") && report.text.contains("3.25") && report.text.contains("1234"), "final losses and RI")
        #expect(report.text.contains("not finished"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2, "the RI plot and one loss plot inline")
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").count - 1 == 2, "only the SVG namespaces")
    }

    @Test func aTiledPageShowsThePreviewTheCoarsePassAndTheTileGrid() throws {
        let folder = try TemporaryDirectory()
        let tiles = ["tile-r0-c0", "tile-r0-c1", "tile-r1-c0", "tile-r1-c1"]
        try write(["output.png", "preview.png", "coarse.png", "job.json", "losses.csv", "style-targets.grams", "losses/coarse.svg"]
                  + tiles.map { "tiles/\($0).png" } + tiles.map { "losses/\($0).svg" }, in: folder)
        let spec = TiledSpec(base: RenderRequest(contentPath: "c.png", stylePaths: ["s.png"]), size: 4096, tile: 512)
        let parts = [JobIndexPage.TiledPart(key: "coarse", kind: .coarse, outputName: "coarse.png",
                                            finalLosses: .init(total: 5, content: 1, styles: [4], tv: 0),
                                            lossPlotFile: "losses/coarse.svg", lossPlotSVG: nil)]
            + tiles.map { JobIndexPage.TiledPart(key: $0, kind: .tile, outputName: "tiles/\($0).png", lossPlotFile: "losses/\($0).svg") }
        let html = JobIndexPage.tiled(jobID: "t1", spec: spec, styleNames: [Self.hostile], parts: parts, outputSize: (4096, 3072),
                                      finishedAt: "now", files: JobFolderFiles(directory: folder.url.path))
        let report = try HTMLCheck.run(html)
        #expect(report.errors.isEmpty, "\(report.errors)")
        expectLinksExist(report, in: folder)
        #expect(html.contains("<a href=\"output.png\"><img class=\"thumb\" src=\"preview.png\""), "the preview links to the full output")
        for tile in tiles { #expect(report.links.contains("tiles/\(tile).png") && report.links.contains("losses/\(tile).svg")) }
        #expect(html.contains("grid-row: 2; grid-column: 2;"), "tile r1 c1 in its place")
        #expect(report.text.contains("4096×3072"))
    }

    @Test func theFileListGroupsSubfoldersAndSaysSizes() throws {
        let files = JobFolderFiles(files: [.init(path: "tiles/b.png", bytes: 2_500_000), .init(path: "job.json", bytes: 12),
                                           .init(path: "tiles/a.png", bytes: 1500), .init(path: "tiles.txt", bytes: 1),
                                           .init(path: "zeta.svg", bytes: 1)])
        let html = JobIndexPage.fileList(files)
        #expect(html.contains("tiles/ (2 files)"))
        #expect(html.components(separatedBy: "<ul").count - 1 == 2, "one list of top-level files, one per subfolder: \(html)")
        let zeta = try #require(html.range(of: "zeta.svg")), folder = try #require(html.range(of: "tiles/ (2 files)"))
        #expect(zeta.lowerBound < folder.lowerBound, "every top-level file before the subfolders")
        #expect(html.contains("2.5 MB") && html.contains("1.5 KB") && html.contains("12 bytes"))
        let job = try #require(html.range(of: "job.json")), tilesA = try #require(html.range(of: "tiles/a.png"))
        #expect(job.lowerBound < tilesA.lowerBound, "top-level files first")
    }
}
