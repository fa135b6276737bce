/// Guided Gram matrices (Gatys et al. 2017, "Controlling Perceptual Factors"): the Gram of the
/// features weighted per position by a mask m,
/// `G = (F·m)(F·m)ᵀ / Σm²`.
/// Dividing by the mask's area Σm² (not by n) makes G the mask-weighted mean of the feature
/// products, so a style that covers a small area is compared on equal terms with its style
/// image's Gram instead of being starved; with m = 1 everywhere it is `compute`'s `F Fᵀ/n`.
extension Gram {
    /// Σm²: the area the Gram is normalised by.
    public static func area(of mask: UnsafePointer<Float>, positions: Int) -> Float {
        var sum: Float = 0
        for p in 0..<positions { sum += mask[p] * mask[p] }
        return sum
    }

    /// Writes the guided Gram into `gram`; `scratch` (C·n floats) receives F·m. An `area` of 0
    /// (a mask that vanished at this resolution) gives G = 0.
    public static func computeMasked(_ features: UnsafePointer<Float>, mask: UnsafePointer<Float>, area: Float,
                                     channels: Int, positions: Int, scratch: UnsafeMutablePointer<Float>,
                                     into gram: UnsafeMutablePointer<Float>, threads: Int = 1) {
        weigh(features, by: mask, squared: false, channels: channels, positions: positions, into: scratch, threads: threads)
        compute(scratch, channels: channels, positions: positions, scale: area > 0 ? 1 / area : 0, into: gram)
    }

    /// `gradient[C, n] += M × (F·m²)`: the chain rule through `computeMasked` for a symmetric
    /// dL/dG folded into M (callers include the factor 2/Σm²). `scratch` (C·n floats) is overwritten.
    public static func accumulateMaskedGradient(_ m: UnsafePointer<Float>, features: UnsafePointer<Float>,
                                                mask: UnsafePointer<Float>, channels: Int, positions: Int,
                                                scratch: UnsafeMutablePointer<Float>,
                                                into gradient: UnsafeMutablePointer<Float>, threads: Int = 1) {
        weigh(features, by: mask, squared: true, channels: channels, positions: positions, into: scratch, threads: threads)
        accumulateGradient(m, features: scratch, channels: channels, positions: positions, into: gradient, threads: threads)
    }

    /// `out[c, p] = F[c, p]·m[p]` (or `·m[p]²`).
    private static func weigh(_ features: UnsafePointer<Float>, by mask: UnsafePointer<Float>, squared: Bool,
                              channels: Int, positions: Int, into out: UnsafeMutablePointer<Float>, threads: Int) {
        Parallel.forEachChunk(channels, threads: threads, minimumChunk: 8) { range in
            for c in range {
                let f = features + c * positions, o = out + c * positions
                if squared {
                    for p in 0..<positions { o[p] = f[p] * mask[p] * mask[p] }
                } else {
                    for p in 0..<positions { o[p] = f[p] * mask[p] }
                }
            }
        }
    }
}
