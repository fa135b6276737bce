internal import Foundation

/// One axis of a figure: its range, linear or logarithmic, and where the ticks go.
struct PlotAxis: Sendable, Equatable {
    var lower: Double
    var upper: Double
    var logarithmic: Bool
    var ticks: [Double]

    /// Where `value` falls between `lower` (0) and `upper` (1); nil when it cannot be placed
    /// (not finite, or not positive on a log axis).
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if logarithmic {
            guard value > 0 else { return nil }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return (value - lower) / (upper - lower)
    }

    /// A linear axis over `minimum…maximum` widened to round ticks (1, 2 or 5 × 10ᵏ apart,
    /// about five of them). A single value gets a range around it.
    static func linear(minimum: Double, maximum: Double) -> PlotAxis {
        var low = minimum, high = maximum
        if !(low.isFinite && high.isFinite) { low = 0; high = 1 }
        if low > high { swap(&low, &high) }
        if high - low < max(abs(high), abs(low), 1e-300) * 1e-9 {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let rough = (high - low) / 5
        let magnitude = pow(10, floor(log10(rough)))
        let residual = rough / magnitude
        let step = (residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10) * magnitude
        let first = floor(low / step + 1e-9), last = ceil(high / step - 1e-9)
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        return PlotAxis(lower: first * step, upper: last * step, logarithmic: false, ticks: ticks)
    }

    /// A logarithmic axis from the decade at or below `minimum` to the one at or above
    /// `maximum`, ticked at decades (every few decades when there are many). Both positive.
    static func logarithmic(minimum: Double, maximum: Double) -> PlotAxis {
        var low = floor(log10(minimum)), high = ceil(log10(maximum))
        if !(low.isFinite && high.isFinite) { return linear(minimum: minimum, maximum: maximum) }
        if high <= low { high = low + 1 }
        low = max(low, -300)
        high = min(high, 300)
        let every = max(1, ((high - low) / 8).rounded(.up))
        var ticks = stride(from: low, through: high, by: every).map { pow(10, $0) }
        // Two decades or fewer leave too few labels: add 2× and 5× of each decade.
        if high - low <= 2 {
            ticks = stride(from: low, to: high, by: 1).flatMap { decade in [1.0, 2, 5].map { $0 * pow(10, decade) } }
                + [pow(10, high)]
        }
        return PlotAxis(lower: pow(10, low), upper: pow(10, high), logarithmic: true, ticks: ticks)
    }

    /// A tick label: shortest readable form ("0.2", "1000", "1e+06").
    static func label(_ value: Double) -> String {
        let cleaned = abs(value) < 1e-12 ? 0 : value
        return String(format: "%g", cleaned)
    }

    /// This axis's label for `value`: on a log axis, decades beyond 10⁴ or below 10⁻³ as
    /// "1e6" / "1e-5" (shorter than "1e+06", and what a reader of loss logs expects).
    func label(_ value: Double) -> String {
        guard logarithmic, value > 0, value.isFinite else { return Self.label(value) }
        let exponent = log10(value)
        let decade = exponent.rounded()
        if abs(exponent - decade) < 1e-9, decade > 4 || decade < -3 { return "1e\(Int(decade))" }
        return Self.label(value)
    }
}
