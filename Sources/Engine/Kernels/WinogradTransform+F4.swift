/// F(4×4)'s input and output transforms written out for its points {0, 1, −1, −2, −½, ∞}, with
/// the terms that rows of Bᵀ and Aᵀ share computed once: 14 operations per 6-point input
/// transform instead of Bᵀ's 24 non-zero products, 12 per output transform instead of 19.
/// `WinogradTransform` uses them only when its matrices are exactly `inputMatrix` and
/// `outputMatrix` below, which the tests check against the Toom–Cook construction.
enum WinogradF4 {
    typealias Lanes = WinogradTransform.Lanes

    /// Bᵀ, 6 × 6, row-major: what `input` computes.
    static let inputMatrix: [Float] = [
        -1, -2.5, 0, 2.5, 1, 0,
        0, 1, 3.5, 3.5, 1, 0,
        0, -1, -1.5, 1.5, 1, 0,
        0, -0.5, -1, 0.5, 1, 0,
        0, -2, -1, 2, 1, 0,
        0, -1, -2.5, 0, 2.5, 1,
    ]

    /// Aᵀ, 4 × 6, row-major: what `output` computes.
    static let outputMatrix: [Float] = [
        1, 1, 1, 1, 1, 0,
        0, 1, -1, -2, -0.5, 0,
        0, 1, 1, 4, 0.25, 0,
        0, 1, -1, -8, -0.125, 1,
    ]

    /// Bᵀ d for one 6-vector d, read at `d[k·stride]` and written to `out[i·outStride]`.
    @inline(__always)
    static func input(_ d: (Int) -> Lanes, _ out: (Int, Lanes) -> Void) {
        let d0 = d(0), d1 = d(1), d2 = d(2), d3 = d(3), d4 = d(4), d5 = d(5)
        let t31 = d3 - d1, t42 = d4 - d2
        out(0, (d4 - d0) + 2.5 * t31)
        out(1, (d1 + d4) + 3.5 * (d2 + d3))
        out(2, (d4 - d1) + 1.5 * (d3 - d2))
        out(3, t42 + 0.5 * t31)
        out(4, t42 + 2 * t31)
        out(5, (d5 - d1) + 2.5 * t42)
    }

    /// Aᵀ m for one 6-vector m.
    @inline(__always)
    static func output(_ m: (Int) -> Lanes, _ out: (Int, Lanes) -> Void) {
        let m0 = m(0), m1 = m(1), m2 = m(2), m3 = m(3), m4 = m(4), m5 = m(5)
        let sum12 = m1 + m2, difference12 = m1 - m2
        out(0, m0 + sum12 + m3 + m4)
        out(1, difference12 - 2 * m3 - 0.5 * m4)
        out(2, sum12 + 4 * m3 + 0.25 * m4)
        out(3, difference12 - 8 * m3 - 0.125 * m4 + m5)
    }

    /// `WinogradTransform.transformInputRow` for these matrices.
    @inline(never)   // out of line: a profile then shows each step
    static func transformInputRow(_ scratch: UnsafePointer<Float>, tiles: Int, into v: UnsafeMutablePointer<Float>,
                                  positionStride: Int) {
        let stride = WinogradTransform.scratchStride(tiles)
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 36) { bd in
            for t0 in Swift.stride(from: 0, to: tiles, by: WinogradTransform.lanes) {
                // Column l of Bᵀ d: input row k, column l is phase l mod 4 of row k, offset l / 4.
                for l in 0..<6 {
                    let base = scratch + (l % 4) * stride + t0 + l / 4
                    input({ k in WinogradTransform.load(base + k * 4 * stride) }, { i, value in bd[i * 6 + l] = value })
                }
                // Row i of (Bᵀ d) B is Bᵀ applied to row i of Bᵀ d.
                for i in 0..<6 {
                    input({ l in bd[i * 6 + l] }, { j, value in WinogradTransform.store(value, v + (i * 6 + j) * positionStride + t0) })
                }
            }
        }
    }

    /// `WinogradTransform.transformOutputRow` for these matrices.
    @inline(never)   // out of line: a profile then shows each step
    static func transformOutputRow(_ products: UnsafePointer<Float>, positionStride: Int, tiles: Int, bias: Float,
                                   into scratch: UnsafeMutablePointer<Float>) {
        let stride = WinogradTransform.scratchStride(tiles)
        let biasLanes = Lanes(repeating: bias)
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 24) { am in
            for t0 in Swift.stride(from: 0, to: tiles, by: WinogradTransform.lanes) {
                // Column j of Aᵀ M.
                for j in 0..<6 {
                    output({ k in WinogradTransform.load(products + (k * 6 + j) * positionStride + t0) },
                           { i, value in am[i * 6 + j] = value })
                }
                for i in 0..<4 {
                    output({ l in am[i * 6 + l] }, { j, value in
                        WinogradTransform.store(value + biasLanes, scratch + (i * 4 + j) * stride + t0)
                    })
                }
            }
        }
    }
}
