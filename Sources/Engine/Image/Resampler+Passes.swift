extension Resampler {
    /// Resamples every row of `input` (`rows` rows of `inputWidth` pixels) to
    /// `weights.starts.count` pixels.
    static func horizontalPass(
        _ input: [Float], weights: ResampleWeights, channels: Int, rows: Int, inputWidth: Int
    ) -> [Float] {
        let outputWidth = weights.starts.count
        let taps = weights.taps
        return [Float](unsafeUninitializedCapacity: rows * outputWidth * channels) { output, count in
            input.withUnsafeBufferPointer { input in
                weights.weights.withUnsafeBufferPointer { kernel in
                    for y in 0..<rows {
                        let inRow = y * inputWidth * channels
                        let outRow = y * outputWidth * channels
                        for x in 0..<outputWidth {
                            let first = inRow + weights.starts[x] * channels
                            let taken = weights.counts[x]
                            let w = x * taps
                            let out = outRow + x * channels
                            switch channels {
                            case 3:
                                weightedRGB(input, from: first, taps: taken, weights: kernel, at: w, into: output, at: out)
                            default:
                                for c in 0..<channels {
                                    var sum: Float = 0
                                    for k in 0..<taken {
                                        sum += kernel[w + k] * input[first + k * channels + c]
                                    }
                                    output[out + c] = sum
                                }
                            }
                        }
                    }
                }
            }
            count = rows * outputWidth * channels
        }
    }

    /// One output pixel of a horizontal pass over interleaved RGB: `taps` input pixels from
    /// sample `first`, weighted by `weights[w…]`. Shared by whole and windowed resizes, so
    /// both add in the same order and agree to the bit.
    @inline(__always)
    static func weightedRGB(_ input: UnsafeBufferPointer<Float>, from first: Int, taps: Int, weights: UnsafeBufferPointer<Float>,
                            at w: Int, into output: UnsafeMutableBufferPointer<Float>, at out: Int) {
        var r: Float = 0, g: Float = 0, b: Float = 0
        for k in 0..<taps {
            let weight = weights[w + k]
            let p = first + k * 3
            r += weight * input[p]
            g += weight * input[p + 1]
            b += weight * input[p + 2]
        }
        output[out] = r
        output[out + 1] = g
        output[out + 2] = b
    }

    /// Resamples the columns of `input` (rows of `rowLength` samples) to
    /// `weights.starts.count` rows, adding whole weighted input rows into each output row.
    static func verticalPass(_ input: [Float], weights: ResampleWeights, rowLength: Int) -> [Float] {
        let outputRows = weights.starts.count
        var output = [Float](repeating: 0, count: outputRows * rowLength)
        input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                for y in 0..<outputRows {
                    let out = y * rowLength
                    for k in 0..<weights.counts[y] {
                        let weight = weights.weights[y * weights.taps + k]
                        let row = (weights.starts[y] + k) * rowLength
                        for i in 0..<rowLength {
                            output[out + i] += weight * input[row + i]
                        }
                    }
                }
            }
        }
        return output
    }
}
