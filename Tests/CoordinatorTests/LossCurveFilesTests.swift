import Foundation
import Testing
import TestSupport
@testable import Coordinator
import Protocol

struct LossCurveFilesTests {
    func line(_ iteration: Int, _ total: Double) -> LossLine {
        LossLine(iteration: iteration, total: total, content: 1, styles: [total / 2], tv: 0, elapsed: 0)
    }

    @Test func aPlotIsNamedAfterItsTasksImage() {
        #expect(LossCurveFiles.path(forOutput: "gamma-0.5_beta-10.png") == "losses/gamma-0.5_beta-10.svg")
        #expect(LossCurveFiles.path(forOutput: "tiles/tile-r0-c1.png") == "losses/tile-r0-c1.svg")
        #expect(LossCurveFiles.path(forOutput: "shards/shard-2.png") == "losses/shard-2.svg")
        #expect(LossCurveFiles.path(forOutput: ".png") == "losses/task.svg")
    }

    @Test func onlyEachTasksLastAttemptIsDrawn() {
        let lines: [(key: String, attempt: Int64, line: LossLine)] = [
            ("a", 1, line(0, 9)), ("a", 1, line(1, 8)), ("a", 4, line(0, 7)), ("a", 4, line(1, 6)), ("a", 4, line(2, 5)),
            ("b", 2, line(0, 3)),
        ]
        let last = LossCurveFiles.lastAttempts(lines)
        #expect(last["a"]?.map(\.total) == [7, 6, 5])
        #expect(last["b"]?.map(\.total) == [3])
    }

    @Test func plotsAreWrittenAndKeptForThePageOnlyWhenTheJobIsSmall() throws {
        let folder = try TemporaryDirectory()
        let last = ["gamma=0": [line(0, 9), line(1, 3)], "gamma=1": [line(0, 5)], "orphan": [line(0, 1)]]
        let names = ["gamma=0": "gamma-0.png", "gamma=1": "gamma-1.png"]
        let small = try LossCurveFiles.write(lastAttempts: last, outputNames: names, titles: [:], styleNames: ["s"],
                                             directory: folder.url.path, keepInline: 2)
        #expect(Set(small.keys) == ["gamma=0", "gamma=1"], "a task without an image has no plot")
        #expect(small.values.allSatisfy { $0.svg != nil })
        let written = try String(contentsOfFile: folder.path("losses/gamma-0.svg"), encoding: .utf8)
        #expect(try XMLTree(written).root.name == "svg" && written == small["gamma=0"]?.svg)
        let large = try LossCurveFiles.write(lastAttempts: last, outputNames: names, titles: [:], styleNames: ["s"],
                                             directory: folder.url.path, keepInline: 1)
        #expect(large.values.allSatisfy { $0.svg == nil }, "more plots than the page pastes: all linked as images")
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: folder.path("losses"))).contains { $0.contains("partial") })
    }
}
