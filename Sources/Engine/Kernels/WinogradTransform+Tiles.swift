/// The per-tile steps of Winograd convolution, on one channel and one row of tiles at a time.
///
/// SIMD lanes are neighbouring tiles, so the transformed values of `lanes` tiles are one
/// contiguous store into the GEMM's [channels × tiles] matrix. To make the loads contiguous too,
/// `gatherRow` first splits the α input rows of a tile row by column phase: phase p of row r
/// holds padded columns p, m+p, 2m+p, …, so column l of tiles t…t+7 is one unaligned load at
/// phase l mod m, offset t + l / m.
extension WinogradTransform {
    typealias Lanes = SIMD8<Float>
    static let lanes = 8

    /// Tiles per row rounded up to whole SIMD blocks.
    static func paddedTiles(_ tiles: Int) -> Int { (tiles + lanes - 1) / lanes * lanes }

    /// Floats between the rows (phases) of a row of `tiles` tiles in the scratch: whole SIMD
    /// blocks and one block more, for SIMD loads that start a tile late and a last block's stores.
    static func scratchStride(_ tiles: Int) -> Int { paddedTiles(tiles) + lanes }

    /// Floats of per-thread scratch for a row of `tiles` tiles: the split input rows or the
    /// split output rows, whichever is larger, and the zero-padded row `gatherRow` splits.
    func scratchFloats(tiles: Int) -> Int {
        let stride = Self.scratchStride(tiles)
        return (max(inputSize, outputSize) + 1) * outputSize * stride
    }

    /// V = Bᵀ d B for every tile of a gathered row; position ξ of tile t goes to
    /// `v[ξ·positionStride + t]`. Writes up to `lanes − 1` floats past the last tile.
    func transformInputRow(_ scratch: UnsafePointer<Float>, tiles: Int, into v: UnsafeMutablePointer<Float>,
                           positionStride: Int) {
        switch (inputSize, outputSize) {
        case (6, 4) where usesWrittenOutF4:
            WinogradF4.transformInputRow(scratch, tiles: tiles, into: v, positionStride: positionStride)
        case (4, 2): transformInputRow(TileSides42.self, scratch, tiles: tiles, into: v, positionStride: positionStride)
        default: transformInputRow(RuntimeTileSides.self, scratch, tiles: tiles, into: v, positionStride: positionStride)
        }
    }

    /// The same with α and m known when compiled (`S`), so that the α×α loops unroll: F(4×4)'s
    /// transforms took a quarter of an iteration with α read at run time. F(4×4) now has its
    /// own written-out transforms (`WinogradF4`); F(2×2) and other point sets come here.
    private func transformInputRow<S: TileSides>(_: S.Type, _ scratch: UnsafePointer<Float>, tiles: Int,
                                                  into v: UnsafeMutablePointer<Float>, positionStride: Int) {
        let a = S.a ?? inputSize, m = S.m ?? outputSize
        let stride = Self.scratchStride(tiles)
        inputMatrix.withUnsafeBufferPointer { bt in
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: a) { column in
                for t0 in Swift.stride(from: 0, to: tiles, by: Self.lanes) {
                    for i in 0..<a {
                        // Row i of Bᵀ d: column l is Σ_k Bᵀ[i,k] d[k,l].
                        for l in 0..<a {
                            let base = scratch + (l % m) * stride + t0 + l / m
                            var sum = Lanes(repeating: 0)
                            for k in 0..<a {
                                let b = bt[i * a + k]
                                if b != 0 { sum += b * Self.load(base + k * m * stride) }
                            }
                            column[l] = sum
                        }
                        for j in 0..<a {
                            var sum = Lanes(repeating: 0)
                            for l in 0..<a {
                                let b = bt[j * a + l]
                                if b != 0 { sum += b * column[l] }
                            }
                            Self.store(sum, v + (i * a + j) * positionStride + t0)
                        }
                    }
                }
            }
        }
    }

    /// Y = Aᵀ M A (+ bias) for every tile of a row; position ξ of tile t is read from
    /// `products[ξ·positionStride + t]`; output (i, j) of tile t goes to `scratch[(i·m + j)·stride + t]`.
    func transformOutputRow(_ products: UnsafePointer<Float>, positionStride: Int, tiles: Int, bias: Float,
                            into scratch: UnsafeMutablePointer<Float>) {
        switch (inputSize, outputSize) {
        case (6, 4) where usesWrittenOutF4:
            WinogradF4.transformOutputRow(products, positionStride: positionStride, tiles: tiles, bias: bias, into: scratch)
        case (4, 2): transformOutputRow(TileSides42.self, products, positionStride: positionStride, tiles: tiles, bias: bias, into: scratch)
        default: transformOutputRow(RuntimeTileSides.self, products, positionStride: positionStride, tiles: tiles, bias: bias, into: scratch)
        }
    }

    private func transformOutputRow<S: TileSides>(_: S.Type, _ products: UnsafePointer<Float>, positionStride: Int, tiles: Int,
                                                   bias: Float, into scratch: UnsafeMutablePointer<Float>) {
        let a = S.a ?? inputSize, m = S.m ?? outputSize
        let stride = Self.scratchStride(tiles)
        outputMatrix.withUnsafeBufferPointer { at in
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: a) { row in
                for t0 in Swift.stride(from: 0, to: tiles, by: Self.lanes) {
                    for i in 0..<m {
                        for j in 0..<a {
                            var sum = Lanes(repeating: 0)
                            for k in 0..<a {
                                let c = at[i * a + k]
                                if c != 0 { sum += c * Self.load(products + (k * a + j) * positionStride + t0) }
                            }
                            row[j] = sum
                        }
                        for j in 0..<m {
                            var sum = Lanes(repeating: bias)
                            for l in 0..<a {
                                let c = at[j * a + l]
                                if c != 0 { sum += c * row[l] }
                            }
                            Self.store(sum, scratch + (i * m + j) * stride + t0)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }
}

/// A Winograd tile's sides α (input) and m (output) as compile-time constants, or nil: read
/// from the transform at run time.
protocol TileSides {
    static var a: Int? { get }
    static var m: Int? { get }
}

/// F(2×2, 3×3): 4×4 input tiles.
enum TileSides42: TileSides {
    static var a: Int? { 4 }
    static var m: Int? { 2 }
}

enum RuntimeTileSides: TileSides {
    static var a: Int? { nil }
    static var m: Int? { nil }
}
