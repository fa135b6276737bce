internal import CSFOpenBLAS

/// Scratch memory for convolution: one im2col band, reused by every layer and every iteration.
///
/// The band is bounded (`capacity` floats) so that memory does not grow with the image: a layer
/// whose full im2col matrix would be 600 MB (block1_conv2 at 512×512) is done in bands of rows.
public final class ConvWorkspace: @unchecked Sendable {
    // @unchecked Sendable: a workspace belongs to one network evaluation at a time; the
    // engine never shares one between concurrent evaluations.
    public let capacity: Int
    let columns: FloatBuffer

    public static let defaultCapacity = 4 << 20   // 4 M floats = 16 MB

    public init(capacity: Int = ConvWorkspace.defaultCapacity) {
        self.capacity = capacity
        columns = FloatBuffer(count: capacity)
    }
}

/// 3×3 convolution, stride 1, zero padding 1, on `cblas_sgemm` over banded im2col.
///
/// Forward: `Y[Cout, H·W] = W[Cout, 9·Cin] × col[9·Cin, H·W]`.
/// Backward to the input is the same operation on the output gradient with the kernel
/// transposed over channels and rotated by 180°, so one GEMM path serves both directions and
/// no col2im scatter is needed.
public struct Conv3x3: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    /// [out, in, 3, 3] = row-major [out, 9·in], the GEMM's A matrix for the forward pass.
    let forwardWeights: FloatBuffer
    /// [in, out, 3, 3] with each 3×3 kernel rotated by 180°: A matrix for backward-to-input.
    let backwardWeights: FloatBuffer
    public let bias: [Float]

    public init(inChannels: Int, outChannels: Int, weights: [Float], bias: [Float]) {
        precondition(weights.count == outChannels * inChannels * 9 && bias.count == outChannels,
                     "Conv3x3: weight/bias sizes do not match \(inChannels)→\(outChannels)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.bias = bias
        forwardWeights = FloatBuffer(count: weights.count)
        backwardWeights = FloatBuffer(count: weights.count)
        for i in 0..<weights.count { forwardWeights.base[i] = weights[i] }
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                for k in 0..<9 {
                    backwardWeights.base[(c * outChannels + o) * 9 + (8 - k)] = weights[(o * inChannels + c) * 9 + k]
                }
            }
        }
    }

    public var weights: [Float] { Array(forwardWeights.buffer) }

    /// Pre-activation output without bias: `output` receives `outChannels × height × width`.
    public func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                        height: Int, width: Int, workspace: ConvWorkspace, threads: Int) {
        Conv3x3.convolve(input, inChannels: inChannels, output, outChannels: outChannels,
                         kernel: forwardWeights.base, height: height, width: width,
                         workspace: workspace, threads: threads)
    }

    /// Gradient with respect to the input, given the gradient of the pre-activation output.
    public func backwardInput(_ outputGradient: UnsafePointer<Float>, _ inputGradient: UnsafeMutablePointer<Float>,
                              height: Int, width: Int, workspace: ConvWorkspace, threads: Int) {
        Conv3x3.convolve(outputGradient, inChannels: outChannels, inputGradient, outChannels: inChannels,
                         kernel: backwardWeights.base, height: height, width: width,
                         workspace: workspace, threads: threads)
    }

    static func convolve(_ input: UnsafePointer<Float>, inChannels: Int,
                         _ output: UnsafeMutablePointer<Float>, outChannels: Int,
                         kernel: UnsafePointer<Float>, height: Int, width: Int,
                         workspace: ConvWorkspace, threads: Int) {
        let k = 9 * inChannels
        let rowsPerBand = max(1, min(height, workspace.capacity / max(k * width, 1)))
        precondition(k * width * rowsPerBand <= workspace.capacity,
                     "ConvWorkspace of \(workspace.capacity) floats cannot hold one row of \(k)×\(width)")
        var y0 = 0
        while y0 < height {
            let rows = min(rowsPerBand, height - y0)
            let n = rows * width
            im2col(input, channels: inChannels, height: height, width: width,
                   firstRow: y0, rows: rows, into: workspace.columns.base, threads: threads)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                        Int32(outChannels), Int32(n), Int32(k),
                        1, kernel, Int32(k),
                        workspace.columns.base, Int32(n),
                        0, output + y0 * width, Int32(height * width))
            y0 += rows
        }
    }

    /// Rows `firstRow ..< firstRow+rows` of the im2col matrix: row `(c·9 + ky·3 + kx)` holds
    /// `input[c, y+ky-1, x+kx-1]` for every output pixel (y, x) of the band, zero outside.
    static func im2col(_ input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                       firstRow: Int, rows: Int, into columns: UnsafeMutablePointer<Float>, threads: Int) {
        let n = rows * width
        Parallel.forEachChunk(channels, threads: threads, minimumChunk: 4) { range in
            for c in range {
                let plane = input + c * height * width
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        let dstRow = columns + (c * 9 + ky * 3 + kx) * n
                        for r in 0..<rows {
                            let y = firstRow + r + ky - 1
                            let dst = dstRow + r * width
                            if y < 0 || y >= height {
                                dst.update(repeating: 0, count: width)
                                continue
                            }
                            let src = plane + y * width
                            switch kx {
                            case 0:
                                dst[0] = 0
                                if width > 1 { (dst + 1).update(from: src, count: width - 1) }
                            case 1:
                                dst.update(from: src, count: width)
                            default:
                                if width > 1 { dst.update(from: src + 1, count: width - 1) }
                                dst[width - 1] = 0
                            }
                        }
                    }
                }
            }
        }
    }
}
