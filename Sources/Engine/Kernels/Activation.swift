/// Bias and ReLU in one pass over a convolution output (the 3-channel first layer's epilogue;
/// wider layers fuse it into their crop).
public enum Activation {
    /// `x[c, p] = max(0, x[c, p] + bias[c])` in place. With `preActivation` non-nil, the biased
    /// value before the ReLU is stored there too (for losses on `blockN_convM` layers).
    public static func addBiasReLU(_ x: UnsafeMutablePointer<Float>, bias: [Float], planeSize: Int,
                                   preActivation: UnsafeMutablePointer<Float>?, threads: Int) {
        bias.withUnsafeBufferPointer { b in
            Parallel.forEachChunk(b.count, threads: threads, minimumChunk: 8) { range in
                for c in range {
                    let plane = x + c * planeSize
                    let bc = b[c]
                    if let preActivation {
                        let pre = preActivation + c * planeSize
                        for i in 0..<planeSize {
                            let v = plane[i] + bc
                            pre[i] = v
                            plane[i] = v > 0 ? v : 0
                        }
                    } else {
                        for i in 0..<planeSize {
                            let v = plane[i] + bc
                            plane[i] = v > 0 ? v : 0
                        }
                    }
                }
            }
        }
    }
}
