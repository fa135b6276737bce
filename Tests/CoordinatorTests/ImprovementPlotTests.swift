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
            return .init(gamma: gamma, relativeImprovement: [1 + (factor - 1) * Double(gamma), 1 + (factor - 1) * (1 - Double(gamma))])
        }
    }

    func pixels(of image: RGBImage, in color: RGBColor, area: (left: Int, top: Int, right: Int, bottom: Int)) -> Int {
        var count = 0
        for y in area.top...area.bottom {
            for x in area.left...area.right where image.color(atX: x, y: y) == color { count += 1 }
        }
        return count
    }

    @Test func thePlotHasItsSizeAndEachStylesLineInItsColour() throws {
        let plot = ImprovementPlot(points: studyPoints(spanning: 5), styleNames: ["starry_night.jpg", "the_scream.jpg"])
        let image = try plot.render()
        #expect(image.width == 800 && image.height == 500)
        let area = plot.plotArea
        for style in 0..<2 {
            #expect(pixels(of: image, in: RGBColor.series(style), area: area) > 200, "style \(style + 1)")
        }
        #expect(RGBColor.series(0) != RGBColor.series(1))
        #expect(pixels(of: image, in: RGBColor.series(2), area: area) == 0)
        // The crossover at γ = 0.5 is drawn: dashed gray pixels in its column.
        let x = area.left + (area.right - area.left) / 2
        #expect((area.top...area.bottom).contains { image.color(atX: x, y: $0) == .gray })
        #expect(plot.crossoverGamma == 0.5)
    }

    @Test func valuesSpanningMoreThanTenfoldUseALogAxis() throws {
        #expect(ImprovementPlot(points: studyPoints(spanning: 50), styleNames: ["a", "b"]).valueAxis()?.logarithmic == true)
        #expect(ImprovementPlot(points: studyPoints(spanning: 5), styleNames: ["a", "b"]).valueAxis()?.logarithmic == false)
        let log = try #require(ImprovementPlot(points: studyPoints(spanning: 50), styleNames: ["a", "b"]).valueAxis())
        #expect(log.lower == 1 && log.upper == 100 && log.ticks == [1, 2, 5, 10, 20, 50, 100])
        #expect(PlotAxis.logarithmic(minimum: 0.5, maximum: 2e4).ticks == [0.1, 1, 10, 100, 1000, 1e4, 1e5])
        _ = try ImprovementPlot(points: studyPoints(spanning: 50), styleNames: ["a", "b"]).render()
    }

    @Test func linearTicksAreRoundNumbersCoveringTheValues() {
        let axis = PlotAxis.linear(minimum: 0.93, maximum: 4.2)
        #expect(axis.lower <= 0.93 && axis.upper >= 4.2)
        #expect(axis.ticks.map(PlotAxis.label) == ["0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5"])
        #expect(PlotAxis.linear(minimum: 0, maximum: 1).ticks.map(PlotAxis.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        let flat = PlotAxis.linear(minimum: 3, maximum: 3)
        #expect(flat.lower < 3 && flat.upper > 3)
    }

    @Test func missingAndNonFiniteValuesLeaveGapsNotErrors() throws {
        var points = studyPoints(spanning: 5)
        points[3].relativeImprovement = [.nan, .infinity]
        points[4].relativeImprovement = [2]
        let plot = ImprovementPlot(points: points, styleNames: ["a", "b", "c"])
        let image = try plot.render()
        #expect(image.width == 800)
        // A third style with no values at all draws nothing in the plot.
        #expect(pixels(of: image, in: RGBColor.series(2), area: plot.plotArea) == 0)
    }

    @Test func nothingToPlotOrABadSizeIsAnError() {
        #expect(throws: EngineError.self) { try ImprovementPlot(points: [], styleNames: ["a", "b"]).render() }
        #expect(throws: EngineError.self) { try ImprovementPlot(points: studyPoints(spanning: 5), styleNames: [], width: 10).render() }
    }

    @Test func gammaStarIsWrittenWithAtMostThreeDecimals() {
        #expect(ImprovementPlot.formatGamma(0.45) == "0.45")
        #expect(ImprovementPlot.formatGamma(1.0 / 3.0) == "0.333")
        #expect(ImprovementPlot.formatGamma(1) == "1")
    }
}
