/// Bias and ReLU, fused into one pass over the convolution output, and the ReLU's backward.
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

    /// `gradient[i] = output[i] > 0 ? gradient[i] : 0` (PyTorch's threshold_backward: the
    /// gradient passes where the ReLU's output is positive).
    public static func reluBackward(_ gradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>,
                                    count: Int, threads: Int) {
        Parallel.forEachChunk(count, threads: threads, minimumChunk: 1 << 16) { range in
            for i in range where !(output[i] > 0) { gradient[i] = 0 }
        }
    }
}
