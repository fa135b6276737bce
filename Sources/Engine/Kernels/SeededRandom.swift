#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64: a small, fast, fully specified generator, so that seeded noise is identical on
/// every platform and Swift version (the standard library's generator makes no such promise).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// Standard normal by Box–Muller.
    public mutating func nextGaussian() -> Float {
        let u1 = max(nextUnitFloat(), Float.leastNormalMagnitude)
        let u2 = nextUnitFloat()
        return (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
    }
}

