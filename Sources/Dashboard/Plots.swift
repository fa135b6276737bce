import Coordinator
import Protocol

/// The pages' plots: the job folders' SVG (module Coordinator), inline.
enum Plots {
    static func improvement(_ points: [(gamma: Double, ri: [Double])], styleNames: [String]) -> String {
        ImprovementPlot(points: points.map { ImprovementPlot.Point(gamma: Float($0.gamma), relativeImprovement: $0.ri) },
                        styleNames: styleNames, width: 720, height: 420).svg()
    }

    static func lossCurves(_ lines: [LossLine], styleNames: [String]) -> String {
        LossCurves(lines: lines, styleNames: styleNames, title: "Losses (log scale)", width: 560, height: 340).svg()
    }
}
