import Engine

/// Naive, obviously-correct versions of the engine's kernels, for tests only.
public enum ReferenceKernels {
    /// Direct 3×3 convolution, zero padding 1, weights [out, in, 3, 3], no bias.
    public static func conv3x3(_ input: [Float], inChannels: Int, height: Int, width: Int,
                               weights: [Float], outChannels: Int) -> [Float] {
        var out = [Float](repeating: 0, count: outChannels * height * width)
        for o in 0..<outChannels {
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for c in 0..<inChannels {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let yy = y + ky - 1, xx = x + kx - 1
                                guard yy >= 0, yy < height, xx >= 0, xx < width else { continue }
                                sum += weights[((o * inChannels + c) * 3 + ky) * 3 + kx] * input[(c * height + yy) * width + xx]
                            }
                        }
                    }
                    out[(o * height + y) * width + x] = sum
                }
            }
        }
        return out
    }

    /// The adjoint of `conv3x3`: dX[c, y, x] = Σ W[o, c, ky, kx] · G[o, y−ky+1, x−kx+1].
    public static func conv3x3Transposed(_ gradient: [Float], outChannels: Int, height: Int, width: Int,
                                         weights: [Float], inChannels: Int) -> [Float] {
        var out = [Float](repeating: 0, count: inChannels * height * width)
        for o in 0..<outChannels {
            for y in 0..<height {
                for x in 0..<width {
                    let g = gradient[(o * height + y) * width + x]
                    for c in 0..<inChannels {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let yy = y + ky - 1, xx = x + kx - 1
                                guard yy >= 0, yy < height, xx >= 0, xx < width else { continue }
                                out[(c * height + yy) * width + xx] += weights[((o * inChannels + c) * 3 + ky) * 3 + kx] * g
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    public static func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
    }

    /// Central finite difference of `f` along coordinate `i` of `x`, in Double.
    public static func finiteDifference(_ x: [Float], _ i: Int, epsilon: Float, _ f: ([Float]) -> Double) -> Double {
        var plus = x, minus = x
        plus[i] += epsilon
        minus[i] -= epsilon
        return (f(plus) - f(minus)) / Double(plus[i] - minus[i])
    }
}
