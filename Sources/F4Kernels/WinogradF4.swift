/// Winograd F(4×4, 3×3)'s per-row kernels, on raw pointers: the input and output transforms for
/// the points {0, 1, −1, −2, −½, ∞}, and moving a row of tiles between an image plane and the
/// phase-split rows the transforms read (see Engine's `WinogradTransform+Tiles` for the layout).
///
/// This file is compiled twice: as `F4Kernels`, for any x86-64 CPU, and through a symbolic link
/// as `F4KernelsAVX2` with `-target-cpu haswell`, where a `SIMD8<Float>` is one AVX register
/// instead of two SSE ones. Engine picks one when it starts (`WinogradF4Kernels`). Both perform
/// the same operations in the same order (Swift never fuses a multiply and an add), so their
/// results are identical bit for bit. Two modules rather than one generic body inlined twice:
/// same-named copies of one function would be merged by the linker, whichever variant won.
public enum WinogradF4 {
    public typealias Lanes = SIMD8<Float>
    public static let lanes = 8

    /// Bᵀ, 6 × 6, row-major: what `input` computes.
    public static let inputMatrix: [Float] = [
        -1, -2.5, 0, 2.5, 1, 0,
        0, 1, 3.5, 3.5, 1, 0,
        0, -1, -1.5, 1.5, 1, 0,
        0, -0.5, -1, 0.5, 1, 0,
        0, -2, -1, 2, 1, 0,
        0, -1, -2.5, 0, 2.5, 1,
    ]

    /// Aᵀ, 4 × 6, row-major: what `output` computes.
    public static let outputMatrix: [Float] = [
        1, 1, 1, 1, 1, 0,
        0, 1, -1, -2, -0.5, 0,
        0, 1, 1, 4, 0.25, 0,
        0, 1, -1, -8, -0.125, 1,
    ]

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

    /// Bᵀ d for one 6-vector d, with the terms its rows share computed once: 14 operations
    /// instead of Bᵀ's 24 non-zero products.
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

    /// Aᵀ m for one 6-vector m: 12 operations instead of 19.
    @inline(__always)
    static func output(_ m: (Int) -> Lanes, _ out: (Int, Lanes) -> Void) {
        let m0 = m(0), m1 = m(1), m2 = m(2), m3 = m(3), m4 = m(4), m5 = m(5)
        let sum12 = m1 + m2, difference12 = m1 - m2
        out(0, m0 + sum12 + m3 + m4)
        out(1, difference12 - 2 * m3 - 0.5 * m4)
        out(2, sum12 + 4 * m3 + 0.25 * m4)
        out(3, difference12 - 8 * m3 - 0.125 * m4 + m5)
    }

    /// V = Bᵀ d B for every tile of a phase-split row (rows of `stride` floats); position ξ of
    /// tile t goes to `v[ξ·positionStride + t]`. Writes up to 7 floats past the last tile.
    public static func transformInputRow(_ scratch: UnsafePointer<Float>, tiles: Int, stride: Int,
                                         into v: UnsafeMutablePointer<Float>, positionStride: Int) {
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 36) { bd in
            for t0 in Swift.stride(from: 0, to: tiles, by: lanes) {
                // Column l of Bᵀ d: input row k, column l is phase l mod 4 of row k, offset l / 4.
                for l in 0..<6 {
                    let base = scratch + (l % 4) * stride + t0 + l / 4
                    input({ k in load(base + k * 4 * stride) }, { i, value in bd[i * 6 + l] = value })
                }
                // Row i of (Bᵀ d) B is Bᵀ applied to row i of Bᵀ d.
                for i in 0..<6 {
                    input({ l in bd[i * 6 + l] }, { j, value in store(value, v + (i * 6 + j) * positionStride + t0) })
                }
            }
        }
    }

    /// Y = Aᵀ M A + bias for every tile of a row; position ξ of tile t is read from
    /// `products[ξ·positionStride + t]`; output (i, j) of tile t goes to `scratch[(4i + j)·stride + t]`.
    public static func transformOutputRow(_ products: UnsafePointer<Float>, positionStride: Int, tiles: Int, stride: Int,
                                          bias: Float, into scratch: UnsafeMutablePointer<Float>) {
        let biasLanes = Lanes(repeating: bias)
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 24) { am in
            for t0 in Swift.stride(from: 0, to: tiles, by: lanes) {
                // Column j of Aᵀ M.
                for j in 0..<6 {
                    output({ k in load(products + (k * 6 + j) * positionStride + t0) }, { i, value in am[i * 6 + j] = value })
                }
                for i in 0..<4 {
                    output({ l in am[i * 6 + l] }, { j, value in store(value + biasLanes, scratch + (i * 4 + j) * stride + t0) })
                }
            }
        }
    }

    /// One image row of `width` columns split by phase into `row` (phase p at `p·stride`, tiles
    /// 0 ..< count): first copied into `padded` (4·stride floats) behind its padding column,
    /// masked (values whose mask is not positive become 0) and with `extra` added, then split 8
    /// tiles at a time: phase p of tile t is padded column 4t + p, so tiles t0 … t0 + 7 are four
    /// contiguous loads and a 4 × 8 transpose. Writes up to 7 tiles past `count` (inside `stride`).
    public static func gatherRow(_ source: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?,
                                 width: Int, count: Int, stride: Int, padded: UnsafeMutablePointer<Float>,
                                 into row: UnsafeMutablePointer<Float>) {
        padded[0] = 0
        let zero = Lanes(repeating: 0)
        var x = 0
        while x + lanes <= width {
            var v = load(source + x)
            if let mask { v.replace(with: zero, where: .!(load(mask + x) .> zero)) }
            if let extra { v += load(extra + x) }
            store(v, padded + 1 + x)
            x += lanes
        }
        while x < width {
            var v = source[x]
            if let mask, !(mask[x] > 0) { v = 0 }
            if let extra { v += extra[x] }
            padded[1 + x] = v
            x += 1
        }
        (padded + 1 + width).update(repeating: 0, count: 4 * stride - 1 - width)
        for t0 in Swift.stride(from: 0, to: count, by: lanes) {
            let base = padded + 4 * t0
            let v = (load(base), load(base + 8), load(base + 16), load(base + 24))
            // Tile t0 + k is columns 4k … 4k + 3: lanes 4(k mod 2) … of vector k / 2.
            for p in 0..<4 {
                store(Lanes(v.0[p], v.0[p + 4], v.1[p], v.1[p + 4], v.2[p], v.2[p + 4], v.3[p], v.3[p + 4]),
                      row + p * stride + t0)
            }
        }
    }

    /// The inverse for one output row: columns 4t … 4t + 3 from phases 0 … 3 of tile t (rows of
    /// `stride` floats), joined in `joined` (4·stride floats) by 4 × 8 transposes, then written
    /// to the `width` columns of `output` through ReLU when asked, the value before it into
    /// `preActivation` when given.
    public static func scatterRow(_ row: UnsafePointer<Float>, tiles: Int, stride: Int, joined: UnsafeMutablePointer<Float>,
                                  width: Int, into output: UnsafeMutablePointer<Float>, relu: Bool,
                                  preActivation: UnsafeMutablePointer<Float>?) {
        for t0 in Swift.stride(from: 0, to: tiles, by: lanes) {
            let s = (load(row + t0), load(row + stride + t0), load(row + 2 * stride + t0), load(row + 3 * stride + t0))
            for q in 0..<4 {
                let k = 2 * q
                store(Lanes(s.0[k], s.1[k], s.2[k], s.3[k], s.0[k + 1], s.1[k + 1], s.2[k + 1], s.3[k + 1]),
                      joined + 4 * t0 + 8 * q)
            }
        }
        let zero = Lanes(repeating: 0)
        var x = 0
        while x + lanes <= width {
            var v = load(joined + x)
            if let preActivation { store(v, preActivation + x) }
            if relu { v.replace(with: zero, where: .!(v .> zero)) }
            store(v, output + x)
            x += lanes
        }
        while x < width {
            let v = joined[x]
            preActivation?[x] = v
            output[x] = relu ? (v > 0 ? v : 0) : v
            x += 1
        }
    }
}
