import Testing
@testable import Coordinator
import Protocol

struct LossCurvesTests {
    func line(_ iteration: Int, total: Double, content: Double = 1, styles: [Double] = [10, 20], tv: Double = 0) -> LossLine {
        LossLine(iteration: iteration, total: total, content: content, styles: styles, tv: tv, elapsed: Double(iteration))
    }

    /// The points of a polyline, parsed back.
    func points(of element: XMLTree.Element) -> [(x: Double, y: Double)] {
        (element.attributes["points"] ?? "").split(separator: " ").compactMap { pair in
            let parts = pair.split(separator: ",").compactMap { Double($0) }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }

    @Test func everyLossGetsALineAndTVOnlyWhenItIsNotZero() throws {
        let lines = (0..<50).map { (i: Int) -> LossLine in
            let falling = 1 / Double(i + 1)
            return line(i, total: 1e6 * falling, content: 100, styles: [1e5 * falling, 5e4 * falling])
        }
        let tree = try XMLTree(LossCurves(lines: lines, styleNames: ["starry.jpg", "scream.jpg"]).svg())
        #expect(tree.root.attributes["xmlns"] == "http://www.w3.org/2000/svg" && tree.root.attributes["viewBox"] == "0 0 640 400")
        #expect(tree.elements(withClass: "series").count == 4, "total, content, two styles")
        let texts = tree.elements(named: "text").map(\.text)
        for name in ["total", "content", "style 1: starry.jpg", "style 2: scream.jpg"] { #expect(texts.contains(name), "\(name)") }
        #expect(!texts.contains("tv"))
        let withTV = try XMLTree(LossCurves(lines: lines.map { var l = $0; l.tv = 3; return l }, styleNames: []).svg())
        #expect(withTV.elements(withClass: "series").count == 5)
        #expect(withTV.elements(named: "text").map(\.text).contains("tv"))
    }

    @Test func theLogAxisIsTickedAtEveryDecadeEvenlySpaced() throws {
        // Values from 100 to 1e7: ticks at each decade 1e2…1e7, the same distance apart
        // (tolerance 0.02 px: two decimals per coordinate).
        let lines = [line(0, total: 1e7, content: 100, styles: [1e5]), line(10, total: 1e6, content: 200, styles: [1e4])]
        let tree = try XMLTree(LossCurves(lines: lines, styleNames: ["s"]).svg())
        let labels = tree.elements(withClass: "y-label")
        #expect(labels.map(\.text) == ["100", "1000", "10000", "1e5", "1e6", "1e7"])
        let ys = tree.elements(withClass: "y-tick").compactMap { $0.number("y1") }
        let gaps = zip(ys, ys.dropFirst()).map { $0 - $1 }
        #expect(gaps.count == 5 && gaps.allSatisfy { abs($0 - gaps[0]) < 0.02 && $0 > 0 }, "\(ys)")
        #expect(PlotAxis.logarithmic(minimum: 3e-4, maximum: 0.5).label(1e-4) == "1e-4")
        #expect(PlotAxis.logarithmic(minimum: 3e-4, maximum: 0.5).label(0.01) == "0.01")
    }

    @Test func valuesALogAxisCannotPlaceAreLeftOut() throws {
        let lines = [line(0, total: 100, content: 0), line(1, total: .nan, content: -1), line(2, total: .infinity, content: 0),
                     line(3, total: 10, content: 0), line(4, total: 1, content: 0)]
        let tree = try XMLTree(LossCurves(lines: lines, styleNames: ["a", "b"]).svg())
        let series = tree.elements(withClass: "series")
        let total = try #require(series.first { $0.attributes["stroke"] == "#222" })
        #expect(points(of: total).count == 3, "NaN and infinity skipped")
        #expect(!series.contains { $0.attributes["stroke"] == "#7f7f7f" }, "content is never positive: no line")
        #expect(tree.elements(named: "polyline").allSatisfy { !($0.attributes["points"] ?? "").contains("nan") })
    }

    @Test func noLinesOrOnlyZerosGiveAPlaceholderAndOnePointAMarker() throws {
        #expect(try XMLTree(LossCurves(lines: [], styleNames: []).svg()).elements(withClass: "empty").count == 1)
        let zeros = [line(0, total: 0, content: 0, styles: [0])]
        #expect(try XMLTree(LossCurves(lines: zeros, styleNames: []).svg()).elements(withClass: "empty").count == 1)
        let one = try XMLTree(LossCurves(lines: [line(0, total: 5, content: 2, styles: [3])], styleNames: ["s"]).svg())
        #expect(one.elements(withClass: "series").isEmpty)
        #expect(one.elements(withClass: "marker").count == 3, "total, content and the style: one marker each")
    }

    @Test func thousandsOfPointsAreDecimatedKeepingEndsAndSpikes() throws {
        // 20 000 iterations, a spike at 12 345: at most 1000 points a series, the spike kept.
        let lines = (0..<20_000).map { (i: Int) -> LossLine in
            let total: Double = i == 12_345 ? 1e9 : 1e5 / Double(i + 1) + 1
            return line(i, total: total, content: 50, styles: [Double(20_000 - i)])
        }
        let svg = LossCurves(lines: lines, styleNames: ["s"]).svg()
        #expect(svg.utf8.count < 120_000, "\(svg.utf8.count) bytes")
        let tree = try XMLTree(svg)
        for series in tree.elements(withClass: "series") { #expect(points(of: series).count <= 1000) }
        let decimated = LossCurves.decimate((0..<20_000).map { LossCurves.Point(iteration: Double($0), value: $0 == 12_345 ? 1e9 : 1) },
                                            maximum: 1000)
        #expect(decimated.count <= 1000)
        #expect(decimated.first?.iteration == 0 && decimated.last?.iteration == 19_999)
        #expect(decimated.contains { $0.iteration == 12_345 && $0.value == 1e9 })
        #expect(zip(decimated, decimated.dropFirst()).allSatisfy { $0.iteration < $1.iteration }, "in order")
        let few = (0..<10).map { LossCurves.Point(iteration: Double($0), value: 1) }
        #expect(LossCurves.decimate(few, maximum: 1000) == few)
    }
}
