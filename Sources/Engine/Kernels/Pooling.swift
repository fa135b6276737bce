/// 2×2, stride-2 pooling (PyTorch `floor` mode: an odd last row or column is dropped).
public enum PoolingMode: String, Sendable, Codable, CaseIterable {
    case max
    case avg
}

public enum Pooling {
    public static func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (height / 2, width / 2)
    }

    public static func forward(_ mode: PoolingMode, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                               channels: Int, height: Int, width: Int, threads: Int) {
        let (oh, ow) = outputSize(height: height, width: width)
        Parallel.forEachChunk(channels, threads: threads, minimumChunk: 4) { range in
            for c in range {
                let src = input + c * height * width
                let dst = output + c * oh * ow
                for y in 0..<oh {
                    let r0 = src + 2 * y * width
                    let r1 = r0 + width
                    for x in 0..<ow {
                        let a = r0[2 * x], b = r0[2 * x + 1], d = r1[2 * x], e = r1[2 * x + 1]
                        switch mode {
                        case .max: dst[y * ow + x] = Swift.max(Swift.max(a, b), Swift.max(d, e))
                        case .avg: dst[y * ow + x] = (a + b + d + e) * 0.25
                        }
                    }
                }
            }
        }
    }

    /// Writes the input gradient (every element, including dropped odd edges, which get zero).
    /// Max pooling routes each output's gradient to the maximum of its window (split equally
    /// between elements equal to it within float32 rounding, see below).
    public static func backward(_ mode: PoolingMode, input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
                                channels: Int, height: Int, width: Int, threads: Int) {
        let (oh, ow) = outputSize(height: height, width: width)
        Parallel.forEachChunk(channels, threads: threads, minimumChunk: 4) { range in
            for c in range {
                let src = input + c * height * width
                let out = output + c * oh * ow
                let gOut = outputGradient + c * oh * ow
                let gIn = inputGradient + c * height * width
                gIn.update(repeating: 0, count: height * width)
                for y in 0..<oh {
                    for x in 0..<ow {
                        let g = gOut[y * ow + x]
                        let i00 = 2 * y * width + 2 * x
                        switch mode {
                        case .avg:
                            let q = g * 0.25
                            gIn[i00] = q; gIn[i00 + 1] = q; gIn[i00 + width] = q; gIn[i00 + width + 1] = q
                        case .max:
                            // Elements within float32 rounding of the max (2 ulps) share its
                            // gradient. Which of two such values comes out larger depends only on
                            // summation order (ours vs. PyTorch's oneDNN differ), so routing all
                            // of it to one of them would make the gradient an accident of rounding;
                            // an equal split is a valid subgradient whichever way rounding went.
                            let m = out[y * ow + x]
                            let floor = m - Swift.max(m, 0) * 2.4e-7
                            let window = (i00, i00 + 1, i00 + width, i00 + width + 1)
                            let hits = (src[window.0] >= floor ? 1 : 0) + (src[window.1] >= floor ? 1 : 0)
                                + (src[window.2] >= floor ? 1 : 0) + (src[window.3] >= floor ? 1 : 0)
                            let share = g / Float(Swift.max(hits, 1))
                            if src[window.0] >= floor { gIn[window.0] = share }
                            if src[window.1] >= floor { gIn[window.1] = share }
                            if src[window.2] >= floor { gIn[window.2] = share }
                            if src[window.3] >= floor { gIn[window.3] = share }
                        }
                    }
                }
            }
        }
    }
}
