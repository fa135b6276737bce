import Testing
import TestSupport
@testable import Engine

/// Shapes include a 1-pixel-wide image, odd sizes and a workspace small enough to force bands.
struct ConvolutionTests {
    static let shapes: [(inC: Int, outC: Int, h: Int, w: Int, workspace: Int)] = [
        (3, 4, 5, 7, 1 << 20), (2, 3, 1, 1, 1 << 20), (4, 2, 9, 1, 1 << 20),
        (5, 6, 11, 8, 5 * 9 * 8 * 2),   // two rows per band
        (3, 2, 7, 6, 3 * 9 * 6),         // one row per band
    ]

    @Test(arguments: shapes)
    func forwardMatchesTheDirectConvolution(shape: (inC: Int, outC: Int, h: Int, w: Int, workspace: Int)) {
        let input = ReferenceKernels.randomValues(shape.inC * shape.h * shape.w, seed: 1)
        let weights = ReferenceKernels.randomValues(shape.outC * shape.inC * 9, seed: 2)
        let conv = Conv3x3(inChannels: shape.inC, outChannels: shape.outC, weights: weights,
                           bias: [Float](repeating: 0, count: shape.outC))
        var output = [Float](repeating: .nan, count: shape.outC * shape.h * shape.w)
        let workspace = ConvWorkspace(capacity: shape.workspace)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                conv.forward(i.baseAddress!, o.baseAddress!, height: shape.h, width: shape.w, workspace: workspace, threads: 2)
            }
        }
        let expected = ReferenceKernels.conv3x3(input, inChannels: shape.inC, height: shape.h, width: shape.w,
                                                weights: weights, outChannels: shape.outC)
        // float32 sums of at most 45 products of values in [-1, 1]: 1e-5 absolute is generous.
        for (a, e) in zip(output, expected) { #expect(abs(a - e) <= 1e-5) }
    }

    /// The backward pass is the adjoint of the forward pass: ⟨conv(x), r⟩ = ⟨x, convᵀ(r)⟩,
    /// which is exactly the gradient of L(x) = ⟨conv(x), r⟩.
    @Test(arguments: shapes)
    func backwardIsTheAdjointOfForward(shape: (inC: Int, outC: Int, h: Int, w: Int, workspace: Int)) {
        let x = ReferenceKernels.randomValues(shape.inC * shape.h * shape.w, seed: 3)
        let r = ReferenceKernels.randomValues(shape.outC * shape.h * shape.w, seed: 4)
        let weights = ReferenceKernels.randomValues(shape.outC * shape.inC * 9, seed: 5)
        let conv = Conv3x3(inChannels: shape.inC, outChannels: shape.outC, weights: weights,
                           bias: [Float](repeating: 0, count: shape.outC))
        var gradient = [Float](repeating: .nan, count: x.count)
        let workspace = ConvWorkspace(capacity: shape.workspace)
        r.withUnsafeBufferPointer { rp in
            gradient.withUnsafeMutableBufferPointer { g in
                conv.backwardInput(rp.baseAddress!, g.baseAddress!, height: shape.h, width: shape.w, workspace: workspace, threads: 1)
            }
        }
        func loss(_ input: [Float]) -> Double {
            let y = ReferenceKernels.conv3x3(input, inChannels: shape.inC, height: shape.h, width: shape.w,
                                             weights: weights, outChannels: shape.outC)
            return zip(y, r).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        for i in stride(from: 0, to: x.count, by: max(1, x.count / 17)) {
            let numeric = ReferenceKernels.finiteDifference(x, i, epsilon: 1e-2, loss)
            // L is linear in x, so the central difference is exact up to float rounding of L (~1e-5).
            #expect(abs(numeric - Double(gradient[i])) <= 1e-3 * max(1, abs(numeric)))
        }
    }

    @Test func biasAndReLUKeepThePreActivationWhenAsked() {
        var x: [Float] = [-1, 0.5, 2, -3]   // two channels of two pixels
        var pre = [Float](repeating: 0, count: 4)
        x.withUnsafeMutableBufferPointer { xp in
            pre.withUnsafeMutableBufferPointer { p in
                Activation.addBiasReLU(xp.baseAddress!, bias: [0.5, 1], planeSize: 2, preActivation: p.baseAddress!, threads: 1)
            }
        }
        #expect(pre == [-0.5, 1, 3, -2])
        #expect(x == [0, 1, 3, 0])
        var g: [Float] = [1, 1, 1, 1]
        g.withUnsafeMutableBufferPointer { gp in
            x.withUnsafeBufferPointer { xp in Activation.reluBackward(gp.baseAddress!, output: xp.baseAddress!, count: 4, threads: 1) }
        }
        #expect(g == [0, 1, 1, 0])
    }
}
