public import Engine
import Foundation

/// A list of values given as `START:STOP:STEP` (inclusive, e.g. `0:1:0.1` → 0, 0.1, … 1) or as
/// a comma-separated list (`0,0.25,0.5`).
public enum ParameterList {
    /// More points than this is almost certainly a typo (a step of 0.0001 for 0.1).
    public static let maximumPoints = 1000

    public static func parse(_ text: String, option: String) throws -> [Float] {
        func fail(_ why: String) -> EngineError {
            EngineError(.invalidArgument, "\(option) '\(text)': \(why); give START:STOP:STEP (e.g. 0:1:0.1) or a list (e.g. 0,0.5,1)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.contains(":") {
            let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 3, let start = parts[0], let stop = parts[1], let step = parts[2],
                  start.isFinite, stop.isFinite, step.isFinite else { throw fail("not three numbers") }
            guard step > 0 else { throw fail("the step must be positive") }
            guard stop >= start else { throw fail("STOP is below START") }
            // Count with a tolerance so that 0:1:0.1 includes 1 despite 0.1's binary rounding;
            // each point is start + i·step, not an accumulated sum.
            let count = Int(((stop - start) / step + 1e-9).rounded(.down)) + 1
            guard count <= maximumPoints else { throw fail("\(count) points; at most \(maximumPoints)") }
            return (0..<count).map { i in Float(round12(start + Double(i) * step)) }
        }
        let values = try trimmed.split(separator: ",").map { item -> Float in
            guard let value = Float(item.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw fail("'\(item)' is not a finite number")
            }
            return value
        }
        guard !values.isEmpty else { throw fail("no values") }
        guard values.count <= maximumPoints else { throw fail("\(values.count) points; at most \(maximumPoints)") }
        return values
    }

    /// Rounds away binary noise (0.30000000000000004 → 0.3) so that names and records are clean.
    static func round12(_ x: Double) -> Double { (x * 1e12).rounded() / 1e12 }
}
