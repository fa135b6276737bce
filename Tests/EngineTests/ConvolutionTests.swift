import Testing
import TestSupport
@testable import Engine

/// Shapes cover both kernels (im2col/col2im for 3-channel sides, nine shifted GEMMs otherwise),
/// 1-pixel-wide images, odd sizes, and band widths small enough to force several bands.
struct ConvolutionTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        let inC: Int, outC: Int, h: Int, w: Int, bandColumns: Int
        var testDescription: String { "\(inC)→\(outC) \(h)×\(w) band \(bandColumns)" }
    }

    static let shapes: [Shape] = [
        Shape(inC: 3, outC: 4, h: 5, w: 7, bandColumns: 8192),
        Shape(inC: 3, outC: 16, h: 9, w: 6, bandColumns: 8),      // one row per band
        Shape(inC: 2, outC: 3, h: 1, w: 1, bandColumns: 8192),
        Shape(inC: 16, outC: 3, h: 7, w: 5, bandColumns: 14),      // col2im backward, two rows per band
        Shape(inC: 16, outC: 17, h: 6, w: 9, bandColumns: 8192),
        Shape(inC: 17, outC: 16, h: 11, w: 8, bandColumns: 20),    // two rows per band
        Shape(inC: 20, outC: 18, h: 4, w: 1, bandColumns: 3),      // one-pixel-wide image
    ]

    static func layer(_ shape: Shape) -> (conv: Conv3x3, weights: [Float], bias: [Float], workspace: ConvWorkspace) {
        let weights = ReferenceKernels.randomValues(shape.outC * shape.inC * 9, seed: 2, scale: 0.5)
        let bias = ReferenceKernels.randomValues(shape.outC, seed: 7, scale: 0.5)
        let conv = Conv3x3(inChannels: shape.inC, outChannels: shape.outC, weights: weights, bias: bias)
        let workspace = ConvWorkspace(for: [(conv, shape.h, shape.w)], threads: 2, bandColumns: shape.bandColumns)
        return (conv, weights, bias, workspace)
    }

    @Test(arguments: shapes)
    func forwardMatchesTheDirectConvolutionWithBiasAndReLU(shape: Shape) {
        let (conv, weights, bias, workspace) = Self.layer(shape)
        let input = ReferenceKernels.randomValues(shape.inC * shape.h * shape.w, seed: 1)
        var output = [Float](repeating: .nan, count: shape.outC * shape.h * shape.w)
        var pre = output
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                pre.withUnsafeMutableBufferPointer { p in
                    conv.forward(i.baseAddress!, o.baseAddress!, preActivation: p.baseAddress!, height: shape.h, width: shape.w,
                                 workspace: workspace, threads: 2)
                }
            }
        }
        let linear = ReferenceKernels.conv3x3(input, inChannels: shape.inC, height: shape.h, width: shape.w,
                                              weights: weights, outChannels: shape.outC)
        // float32 sums of at most 9·20 products of values in [-1, 1]: 1e-5 absolute is generous.
        for i in 0..<linear.count {
            let expected = linear[i] + bias[i / (shape.h * shape.w)]
            #expect(abs(pre[i] - expected) <= 1e-5)
            #expect(abs(output[i] - max(0, expected)) <= 1e-5)
        }
    }

    /// d/dx of ⟨ReLU(conv(x) + b), r⟩ + ⟨conv(x) + b, e⟩ is convᵀ(mask ⊙ r + e), checked against a
    /// direct transposed convolution.
    @Test(arguments: shapes)
    func backwardIsTheTransposedConvolutionOfTheMaskedGradient(shape: Shape) {
        let (conv, weights, _, workspace) = Self.layer(shape)
        let x = ReferenceKernels.randomValues(shape.inC * shape.h * shape.w, seed: 3)
        let r = ReferenceKernels.randomValues(shape.outC * shape.h * shape.w, seed: 4)
        let e = ReferenceKernels.randomValues(shape.outC * shape.h * shape.w, seed: 5, scale: 0.3)
        var output = [Float](repeating: 0, count: r.count)
        var gradient = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in
            output.withUnsafeMutableBufferPointer { o in
                conv.forward(xp.baseAddress!, o.baseAddress!, preActivation: nil, height: shape.h, width: shape.w,
                             workspace: workspace, threads: 1)
            }
        }
        r.withUnsafeBufferPointer { rp in
            e.withUnsafeBufferPointer { ep in
                output.withUnsafeBufferPointer { o in
                    gradient.withUnsafeMutableBufferPointer { g in
                        conv.backward(outputGradient: rp.baseAddress!, output: o.baseAddress!, preActivationGradient: ep.baseAddress!,
                                      inputGradient: g.baseAddress!, height: shape.h, width: shape.w, workspace: workspace, threads: 2)
                    }
                }
            }
        }
        let upstream = (0..<r.count).map { (output[$0] > 0 ? r[$0] : 0) + e[$0] }
        let expected = ReferenceKernels.conv3x3Transposed(upstream, outChannels: shape.outC, height: shape.h, width: shape.w,
                                                          weights: weights, inChannels: shape.inC)
        #expect(output.contains { $0 == 0 } && output.contains { $0 > 0 }, "the mask must matter in this test")
        for (a, b) in zip(gradient, expected) { #expect(abs(a - b) <= 1e-5) }
    }
}
