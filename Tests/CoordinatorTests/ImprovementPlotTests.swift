import Testing
@testable import Coordinator
import Engine

struct ImprovementPlotCrossoverTests {
    let gammas: [Float] = (0...10).map { Float($0) / 10 }

    @Test func risingAndFallingLinesCrossWhereTheyAreEqual() throws {
        // RI₁ − RI₂ = 20γ − 9: zero at γ = 0.45, between the points at 0.4 and 0.5. Linear
        // interpolation is exact for linear data; 1e-4 covers Float rounding of the γ values.
        let ri1 = gammas.map { 1 + 10 * Double($0) }
        let ri2 = gammas.map { 1 + 10 * (0.9 - Double($0)) }
        let crossing = try #require(ImprovementPlot.crossover(gammas: gammas, ri1: ri1, ri2: ri2))
        #expect(abs(crossing - 0.45) < 1e-4)
    }

    @Test func nonlinearDataCrossesByInterpolationBetweenTheTwoPointsAround() throws {
        // Differences −1 at γ = 0.2 and +3 at γ = 0.3: a quarter of the way, γ* = 0.225.
        let crossing = try #require(ImprovementPlot.crossover(gammas: [0.1, 0.2, 0.3, 0.4], ri1: [1, 2, 7, 9], ri2: [5, 3, 4, 1]))
        #expect(abs(crossing - 0.225) < 1e-4)
    }

    @Test func linesThatDoNotCrossHaveNoCrossover() {
        #expect(ImprovementPlot.crossover(gammas: gammas, ri1: gammas.map { 2 + Double($0) }, ri2: gammas.map { 1 - Double($0) }) == nil)
        #expect(ImprovementPlot.crossover(gammas: [], ri1: [], ri2: []) == nil)
        #expect(ImprovementPlot.crossover(gammas: [0.5], ri1: [1], ri2: [2]) == nil)
    }

    @Test func anEqualPointIsTheCrossoverAndUnsortedOrRaggedInputIsFine() {
        #expect(ImprovementPlot.crossover(gammas: [0, 0.5, 1], ri1: [1, 2, 3], ri2: [3, 2, 1]) == 0.5)
        // Given out of order, with a NaN and a longer ri2: read in order of γ, NaN skipped.
        let crossing = ImprovementPlot.crossover(gammas: [1, 0, 0.5], ri1: [3, 1, .nan], ri2: [1, 3, 2, 99])
        #expect(crossing == 0.5)
    }
}

struct ImprovementPlotTests {
    func studyPoints(spanning factor: Double) -> [ImprovementPlot.Point] {
        (0...10).map { step in
            let gamma = Float(step) / 10
            // RI₁ rises from 1 to `factor`, RI₂ falls from `factor` to 1: they cross at γ = 0.5.
            let t = Double(step) / 10
            return ImprovementPlot.Point(gamma: gamma, relativeImprovement: [1 + (factor - 1) * t, factor - (factor - 1) * t])
        }
    }

    @Test func theFigureIsAStandaloneSVGWithALineAndMarkersPerStyleAndALegend() throws {
        let plot = ImprovementPlot(points: studyPoints(spanning: 5), styleNames: ["starry_night.jpg", "the_scream.jpg"])
        let tree = try XMLTree(plot.svg())
        #expect(tree.root.name == "svg")
        #expect(tree.root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(tree.root.attributes["viewBox"] == "0 0 800 500")
        #expect(tree.root.attributes["width"] == "800" && tree.root.attributes["height"] == "500")
        let series = tree.elements(withClass: "series")
        #expect(series.count == 2)
        #expect(Set(series.compactMap { $0.attributes["stroke"] }) == [PlotFrame.color(0), PlotFrame.color(1)])
        #expect(tree.elements(withClass: "marker").count == 22, "a marker on each of 11 points of 2 styles")
        let texts = tree.elements(named: "text").map(\.text)
        #expect(texts.contains("style 1: starry_night.jpg") && texts.contains("style 2: the_scream.jpg"))
    }

    @Test func theCrossoverIsADashedLineAtGammaStarLabelledWithIt() throws {
        // RI₁ = 2 + 4γ, RI₂ = 2 + 4(0.9 − γ): equal at γ* = 0.45, a span under 10× (linear
        // axis). γ runs 0…1 across the plot area, 72…776 px: γ* is at 72 + 0.45 · 704 = 388.8.
        // Tolerance 0.1 px: Float γ values (~1e-7) and the writer's two decimals (0.005 px).
        let points = (0...10).map { step -> ImprovementPlot.Point in
            let gamma = Double(step) / 10
            return ImprovementPlot.Point(gamma: Float(gamma), relativeImprovement: [2 + 4 * gamma, 2 + 4 * (0.9 - gamma)])
        }
        let plot = ImprovementPlot(points: points, styleNames: ["a", "b"])
        #expect(plot.plotArea.left == 72 && plot.plotArea.right == 776)
        let tree = try XMLTree(plot.svg())
        let crossover = try #require(tree.elements(withClass: "crossover").first)
        let x1 = try #require(crossover.number("x1")), x2 = try #require(crossover.number("x2"))
        #expect(abs(x1 - 388.8) < 0.1 && x1 == x2, "vertical, at γ* = 0.45: \(x1), \(x2)")
        #expect(crossover.attributes["stroke-dasharray"] != nil)
        #expect(try #require(crossover.number("y1")) == plot.plotArea.top && crossover.number("y2") == plot.plotArea.bottom)
        #expect(tree.elements(withClass: "crossover-label").first?.text == "γ* = 0.45")
    }

    @Test func linesThatNeverCrossHaveNoCrossoverMark() throws {
        let points = (0...4).map { ImprovementPlot.Point(gamma: Float($0) / 4, relativeImprovement: [3, 1]) }
        let tree = try XMLTree(ImprovementPlot(points: points, styleNames: ["a", "b"]).svg())
        #expect(tree.elements(withClass: "crossover").isEmpty)
    }

    @Test func valuesSpanningMoreThanTenfoldGetALogAxisTickedAtDecades() throws {
        #expect(ImprovementPlot(points: studyPoints(spanning: 50), styleNames: ["a", "b"]).valueAxis()?.logarithmic == true)
        #expect(ImprovementPlot(points: studyPoints(spanning: 5), styleNames: ["a", "b"]).valueAxis()?.logarithmic == false)
        let log = try #require(ImprovementPlot(points: studyPoints(spanning: 50), styleNames: ["a", "b"]).valueAxis())
        #expect(log.ticks == [1, 2, 5, 10, 20, 50, 100], "under two decades: 1, 2 and 5 of each")
        #expect(PlotAxis.logarithmic(minimum: 0.5, maximum: 2e4).ticks == [0.1, 1, 10, 100, 1000, 1e4, 1e5])
        let texts = try XMLTree(ImprovementPlot(points: studyPoints(spanning: 50), styleNames: ["a", "b"]).svg()).elements(named: "text").map(\.text)
        #expect(texts.contains("relative improvement RI (log scale)"))
    }

    @Test func linearTicksAreRoundNumbers() {
        let axis = PlotAxis.linear(minimum: 0.93, maximum: 4.2)
        #expect(axis.lower <= 0.93 && axis.upper >= 4.2)
        #expect(axis.ticks.map(PlotAxis.label) == ["0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5"])
        #expect(PlotAxis.linear(minimum: 0, maximum: 1).ticks.map(PlotAxis.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        let flat = PlotAxis.linear(minimum: 3, maximum: 3)
        #expect(flat.lower < 3 && flat.upper > 3)
    }

    @Test func aMissingValueLeavesAGapAndAStyleWithNoValuesDrawsNothing() throws {
        var points = studyPoints(spanning: 5)
        points[5].relativeImprovement[0] = .nan
        let plot = ImprovementPlot(points: points, styleNames: ["a", "b", "c"])
        let tree = try XMLTree(plot.svg())
        let series = tree.elements(withClass: "series")
        #expect(series.filter { $0.attributes["stroke"] == PlotFrame.color(0) }.count == 2, "style 1 in two pieces around the NaN")
        #expect(series.allSatisfy { $0.attributes["stroke"] != PlotFrame.color(2) }, "style 3 has no values")
    }

    @Test func noPointsGiveATitledPlaceholderNotAnError() throws {
        let tree = try XMLTree(ImprovementPlot(points: [], styleNames: ["a", "b"]).svg())
        #expect(tree.root.name == "svg")
        #expect(tree.elements(withClass: "empty").count == 1)
        // Sizes out of range are clamped rather than refused.
        let tiny = try XMLTree(ImprovementPlot(points: studyPoints(spanning: 5), styleNames: [], width: 10, height: -5).svg())
        #expect(tiny.root.attributes["viewBox"] == "0 0 320 240")
    }

    @Test func gammaStarIsPrintedToThreeDecimalsWithoutTrailingZeros() {
        #expect(ImprovementPlot.formatGamma(0.45) == "0.45")
        #expect(ImprovementPlot.formatGamma(1.0 / 3.0) == "0.333")
        #expect(ImprovementPlot.formatGamma(1) == "1")
    }
}
