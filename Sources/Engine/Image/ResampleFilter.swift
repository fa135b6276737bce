internal import Foundation

/// How `Resampler` weighs input pixels.
public enum ResampleFilter: String, Sendable, Hashable, CaseIterable, Codable {
    /// Windowed sinc with three lobes: the sharpest, with slight ringing at hard edges.
    /// Antialiased when shrinking (the kernel widens with the scale factor, as in Pillow).
    case lanczos3
    /// The exact average of the input area each output pixel covers, counting partly covered
    /// pixels by the fraction covered. Exact for integer shrink factors; never rings.
    case area
    /// Triangle (tent) filter over the two nearest pixels; widened when shrinking, like lanczos3.
    case bilinear
}

extension ResampleFilter {
    /// Half-width of the kernel in input pixels at scale 1.
    var support: Double {
        switch self {
        case .lanczos3: 3
        case .area: 0.5
        case .bilinear: 1
        }
    }

    /// The kernel at distance `x` (in input pixels at scale 1) from an output pixel's centre.
    /// `.area` does not use this: its weights are coverage fractions.
    func kernel(_ x: Double) -> Double {
        switch self {
        case .lanczos3:
            guard abs(x) < 3 else { return 0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        case .bilinear:
            return max(0, 1 - abs(x))
        case .area:
            return abs(x) <= 0.5 ? 1 : 0
        }
    }

    private static func sinc(_ x: Double) -> Double {
        guard x != 0 else { return 1 }
        let px = Double.pi * x
        return sin(px) / px
    }
}
