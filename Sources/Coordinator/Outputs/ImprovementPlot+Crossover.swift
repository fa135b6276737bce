extension ImprovementPlot {
    /// The γ* where RI₁ = RI₂: the first place, in order of γ, where RI₁ − RI₂ changes sign,
    /// by linear interpolation between the two points either side (or a point where they are
    /// equal). Nil when they never cross. Points with a non-finite value are skipped; arrays
    /// of different lengths are read up to the shortest.
    public static func crossover(gammas: [Float], ri1: [Double], ri2: [Double]) -> Float? {
        let count = min(gammas.count, ri1.count, ri2.count)
        let points = (0..<count)
            .filter { gammas[$0].isFinite && ri1[$0].isFinite && ri2[$0].isFinite }
            .map { (gamma: Double(gammas[$0]), difference: ri1[$0] - ri2[$0]) }
            .sorted { $0.gamma < $1.gamma }
        for (index, point) in points.enumerated() {
            if point.difference == 0 { return Float(point.gamma) }
            guard index + 1 < points.count else { break }
            let next = points[index + 1]
            if (point.difference < 0) != (next.difference < 0) && next.difference != 0 {
                let t = point.difference / (point.difference - next.difference)
                return Float(point.gamma + t * (next.gamma - point.gamma))
            }
        }
        return nil
    }
}
