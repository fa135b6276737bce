import Protocol

/// The pages' plots, drawn by the same SVG code as the job folders' (module Coordinator).
enum Plots {
    static func improvement(_ points: [(gamma: Double, ri: [Double])], styleNames: [String]) -> String {
        ""   // wired to Coordinator's SVG plot when it lands (issue 12, job folders)
    }

    static func lossCurves(_ lines: [LossLine], styleNames: [String]) -> String {
        ""   // wired to Coordinator's SVG plot when it lands (issue 12, job folders)
    }
}
