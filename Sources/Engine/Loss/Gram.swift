internal import CSFOpenBLAS

/// Gram matrices `G = F Fᵀ / n` of a feature map F = [C, n] (n = H·W), and the style loss's
/// gradient product.
public enum Gram {
    /// Writes the full C×C Gram matrix (both triangles) into `gram`.
    public static func compute(_ features: UnsafePointer<Float>, channels: Int, positions: Int,
                               into gram: UnsafeMutablePointer<Float>) {
        compute(features, channels: channels, positions: positions, scale: 1 / Float(positions), into: gram)
    }

    /// `G = scale · F Fᵀ` (see `Gram+Masked.swift` for a scale other than 1/n).
    static func compute(_ features: UnsafePointer<Float>, channels: Int, positions: Int, scale: Float,
                        into gram: UnsafeMutablePointer<Float>) {
        // ssyrk does half the multiply-adds of sgemm; mirror the upper triangle afterwards.
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(channels), Int32(positions),
                    scale, features, Int32(positions), 0, gram, Int32(channels))
        for i in 0..<channels {
            for j in 0..<i { gram[i * channels + j] = gram[j * channels + i] }
        }
    }

    public static func compute(_ features: UnsafePointer<Float>, channels: Int, positions: Int) -> [Float] {
        var gram = [Float](repeating: 0, count: channels * channels)
        gram.withUnsafeMutableBufferPointer { compute(features, channels: channels, positions: positions, into: $0.baseAddress!) }
        return gram
    }

    /// `gradient[C, n] += M[C, C] × F[C, n]` — the chain rule through `G = F Fᵀ / n` for a
    /// symmetric dL/dG folded into M (callers include the factor 2/n). Columns are split over
    /// threads (fixed split, so the result does not depend on scheduling).
    public static func accumulateGradient(_ m: UnsafePointer<Float>, features: UnsafePointer<Float>,
                                          channels: Int, positions: Int, into gradient: UnsafeMutablePointer<Float>,
                                          threads: Int = 1) {
        Parallel.forEachChunk(positions, threads: threads, minimumChunk: 1024) { range in
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(channels), Int32(range.count),
                        1, m, Int32(channels), features + range.lowerBound, Int32(positions),
                        1, gradient + range.lowerBound, Int32(positions))
        }
    }
}
