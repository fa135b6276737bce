import Testing
import TestSupport
@testable import Engine

/// Winograd F(2×2) and F(4×4) against the naive convolution: odd sizes (partial tiles on both
/// edges, images smaller than a tile), channel counts that are not multiples of anything, and
/// bands of one tile row as well as the default.
struct WinogradConvolutionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let method: ConvolutionMethod
        let inC: Int, outC: Int, h: Int, w: Int, bandTiles: Int
        var testDescription: String { "\(method) \(inC)→\(outC) \(h)×\(w) band \(bandTiles)" }
    }

    static let cases: [Case] = [ConvolutionMethod.winograd2, .winograd4].flatMap { method in
        [
            Case(method: method, inC: 16, outC: 17, h: 5, w: 7, bandTiles: 1024),
            Case(method: method, inC: 17, outC: 16, h: 13, w: 9, bandTiles: 1),      // one tile row per band
            Case(method: method, inC: 20, outC: 18, h: 1, w: 1, bandTiles: 1024),
            Case(method: method, inC: 16, outC: 32, h: 2, w: 3, bandTiles: 1024),
            Case(method: method, inC: 32, outC: 24, h: 19, w: 33, bandTiles: 20),    // several SIMD blocks per row
            Case(method: method, inC: 3, outC: 16, h: 8, w: 8, bandTiles: 1024),     // allowed, if slow
            Case(method: method, inC: 16, outC: 16, h: 6, w: 75, bandTiles: 1024),   // F(4×4) gathers two SIMD blocks, edges scalar
        ]
    }

    static func layer(_ c: Case, threads: Int = 2) -> (conv: Conv3x3, weights: [Float], bias: [Float], workspace: ConvWorkspace) {
        let weights = ReferenceKernels.randomValues(c.outC * c.inC * 9, seed: 2, scale: 0.5)
        let bias = ReferenceKernels.randomValues(c.outC, seed: 7, scale: 0.5)
        let conv = Conv3x3(inChannels: c.inC, outChannels: c.outC, weights: weights, bias: bias, method: c.method)
        let workspace = ConvWorkspace(for: [(conv, c.h, c.w)], threads: threads, winogradBandTiles: c.bandTiles)
        return (conv, weights, bias, workspace)
    }

    static func forward(_ conv: Conv3x3, _ input: [Float], _ c: Case, _ workspace: ConvWorkspace, threads: Int)
        -> (output: [Float], pre: [Float]) {
        var output = [Float](repeating: .nan, count: c.outC * c.h * c.w)
        var pre = output
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                pre.withUnsafeMutableBufferPointer { p in
                    conv.forward(i.baseAddress!, o.baseAddress!, preActivation: p.baseAddress!, height: c.h, width: c.w,
                                 workspace: workspace, threads: threads)
                }
            }
        }
        return (output, pre)
    }

    static func backward(_ conv: Conv3x3, gradient: [Float], mask: [Float], extra: [Float]?, _ c: Case,
                         _ workspace: ConvWorkspace, threads: Int) -> [Float] {
        var result = [Float](repeating: .nan, count: c.inC * c.h * c.w)
        gradient.withUnsafeBufferPointer { g in
            mask.withUnsafeBufferPointer { m in
                result.withUnsafeMutableBufferPointer { r in
                    if let extra {
                        extra.withUnsafeBufferPointer { e in
                            conv.backward(outputGradient: g.baseAddress!, output: m.baseAddress!, preActivationGradient: e.baseAddress!,
                                          inputGradient: r.baseAddress!, height: c.h, width: c.w, workspace: workspace, threads: threads)
                        }
                    } else {
                        conv.backward(outputGradient: g.baseAddress!, output: m.baseAddress!, preActivationGradient: nil,
                                      inputGradient: r.baseAddress!, height: c.h, width: c.w, workspace: workspace, threads: threads)
                    }
                }
            }
        }
        return result
    }

    /// Tolerance: sums of at most 9·32 products of values in [−1, 1]; the transforms add a few
    /// roundings of values up to ~10× the inputs (F(4×4)'s points ±2, ±½), so 1e-4 absolute.
    static let tolerance: Float = 1e-4

    @Test(arguments: cases)
    func forwardMatchesTheNaiveConvolution(c: Case) {
        let (conv, weights, bias, workspace) = Self.layer(c)
        let input = ReferenceKernels.randomValues(c.inC * c.h * c.w, seed: 1)
        let (output, pre) = Self.forward(conv, input, c, workspace, threads: 2)
        let linear = ReferenceKernels.conv3x3(input, inChannels: c.inC, height: c.h, width: c.w, weights: weights, outChannels: c.outC)
        var worst: Float = 0
        for i in 0..<linear.count {
            let expected = linear[i] + bias[i / (c.h * c.w)]
            worst = max(worst, abs(pre[i] - expected), abs(output[i] - max(0, expected)))
        }
        #expect(worst <= Self.tolerance, "largest difference \(worst)")
    }

    @Test(arguments: cases)
    func backwardMatchesTheNaiveTransposedConvolution(c: Case) {
        let (conv, weights, _, workspace) = Self.layer(c)
        let mask = ReferenceKernels.randomValues(c.outC * c.h * c.w, seed: 3)       // ~half positive
        let r = ReferenceKernels.randomValues(c.outC * c.h * c.w, seed: 4)
        let e = ReferenceKernels.randomValues(c.outC * c.h * c.w, seed: 5, scale: 0.3)
        let gradient = Self.backward(conv, gradient: r, mask: mask, extra: e, c, workspace, threads: 2)
        let upstream = (0..<r.count).map { (mask[$0] > 0 ? r[$0] : 0) + e[$0] }
        let expected = ReferenceKernels.conv3x3Transposed(upstream, outChannels: c.outC, height: c.h, width: c.w,
                                                          weights: weights, inChannels: c.inC)
        let worst = zip(gradient, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= Self.tolerance, "largest difference \(worst)")
    }

    /// ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ with both sides computed by the Winograd kernels (no bias,
    /// mask of ones), in Double; float32 rounding of ~10⁴ terms: 1e-4 relative.
    @Test(arguments: cases.filter { $0.inC >= 16 })
    func backwardIsTheAdjointOfForward(c: Case) {
        let weights = ReferenceKernels.randomValues(c.outC * c.inC * 9, seed: 2, scale: 0.5)
        let conv = Conv3x3(inChannels: c.inC, outChannels: c.outC, weights: weights,
                           bias: [Float](repeating: 0, count: c.outC), method: c.method)
        let workspace = ConvWorkspace(for: [(conv, c.h, c.w)], threads: 2, winogradBandTiles: c.bandTiles)
        let x = ReferenceKernels.randomValues(c.inC * c.h * c.w, seed: 8)
        let y = ReferenceKernels.randomValues(c.outC * c.h * c.w, seed: 9)
        let (_, convX) = Self.forward(conv, x, c, workspace, threads: 2)
        let convTY = Self.backward(conv, gradient: y, mask: [Float](repeating: 1, count: y.count), extra: nil, c, workspace, threads: 2)
        let lhs = zip(convX, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x, convTY).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let scale = zip(convX, y).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        #expect(abs(lhs - rhs) <= 1e-4 * scale, "⟨conv x, y⟩ = \(lhs), ⟨x, convᵀ y⟩ = \(rhs)")
    }

    /// Each value is computed by one thread whatever the split, so 1 and 2 threads agree bit for bit.
    @Test(arguments: [ConvolutionMethod.winograd2, .winograd4])
    func resultsDoNotDependOnTheThreadCount(method: ConvolutionMethod) {
        let c = Case(method: method, inC: 24, outC: 20, h: 21, w: 15, bandTiles: 16)
        let one = Self.layer(c, threads: 1), two = Self.layer(c, threads: 2)
        let input = ReferenceKernels.randomValues(c.inC * c.h * c.w, seed: 11)
        #expect(Self.forward(one.conv, input, c, one.workspace, threads: 1).pre
                == Self.forward(two.conv, input, c, two.workspace, threads: 2).pre)
        let g = ReferenceKernels.randomValues(c.outC * c.h * c.w, seed: 12)
        let mask = ReferenceKernels.randomValues(g.count, seed: 13)
        #expect(Self.backward(one.conv, gradient: g, mask: mask, extra: nil, c, one.workspace, threads: 1)
                == Self.backward(two.conv, gradient: g, mask: mask, extra: nil, c, two.workspace, threads: 2))
    }

    /// F(4×4)'s written-out transforms (`WinogradF4`) are what the general loops compute from the
    /// constructed matrices, up to float rounding of the reordered sums, and only F(4×4) uses them.
    @Test func theWrittenOutF4TransformsMatchTheGeneralLoops() {
        let fast = WinogradTransform.f4
        var general = fast
        general.usesWrittenOutF4 = false
        #expect(fast.usesWrittenOutF4 && !WinogradTransform.f2.usesWrittenOutF4)
        let tiles = 13                                   // one whole SIMD block and a partial one
        let stride = WinogradTransform.scratchStride(tiles)
        let scratch = ReferenceKernels.randomValues(fast.scratchFloats(tiles: tiles), seed: 21)
        let products = ReferenceKernels.randomValues(fast.positions * stride, seed: 22)
        func run(_ t: WinogradTransform) -> (input: [Float], output: [Float]) {
            var v = [Float](repeating: 0, count: t.positions * stride)
            var y = [Float](repeating: 0, count: t.scratchFloats(tiles: tiles))
            scratch.withUnsafeBufferPointer { s in
                v.withUnsafeMutableBufferPointer { t.transformInputRow(s.baseAddress!, tiles: tiles, into: $0.baseAddress!, positionStride: stride) }
            }
            products.withUnsafeBufferPointer { p in
                y.withUnsafeMutableBufferPointer {
                    t.transformOutputRow(p.baseAddress!, positionStride: stride, tiles: tiles, bias: 0.25, into: $0.baseAddress!)
                }
            }
            return (v, y)
        }
        let a = run(fast), b = run(general)
        for (x, y) in [(a.input, b.input), (a.output, b.output)] {
            let worst = zip(x, y).map { abs($0 - $1) }.max() ?? .infinity
            let largest = y.map(abs).max() ?? 0
            #expect(largest > 1 && worst <= 1e-5 * largest, "largest difference \(worst) of \(largest)")
        }
    }

    @Test func theTransformsReproduceLavinsF2() {
        // Lavin & Gray's F(2×2, 3×3) Bᵀ up to the signs of rows 0 and 3, which G and Aᵀ absorb.
        let t = WinogradTransform.f2
        #expect(t.inputMatrix.map(abs) == [1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1])
        #expect(t.outputMatrix.map(abs) == [1, 1, 1, 0, 0, 1, 1, 1])
    }
}
