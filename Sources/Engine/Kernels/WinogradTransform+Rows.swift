/// Moving one row of Winograd tiles between a C×H×W plane and the per-thread scratch that the
/// SIMD transforms read and write (layout in `WinogradTransform+Tiles`).
///
/// Each phase's columns that fall inside the image form one range of tiles, computed once, so
/// the copies run without a bounds test per element, and the optional mask, extra term, ReLU and
/// pre-activation copy each select a loop instead of being tested per element: with those tests
/// inside, gathering and scattering took 16 % of an F(4×4) iteration.
extension WinogradTransform {
    /// Splits the α rows of tile row `tileRow` of one channel (zero outside the image) by column
    /// phase into `scratch` (row r, phase p at `(r·m + p)·stride`). With `mask`, values whose mask
    /// is not positive become 0 (ReLU backward); `extra` is added after.
    func gatherRow(_ source: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?,
                   height: Int, width: Int, tileRow: Int, tiles: Int, into scratch: UnsafeMutablePointer<Float>) {
        let m = outputSize
        let stride = Self.paddedTiles(tiles) + Self.lanes
        let count = Self.paddedTiles(tiles) + 1
        for r in 0..<inputSize {
            let y = tileRow * m + r - 1
            for p in 0..<m {
                let dst = scratch + (r * m + p) * stride
                guard y >= 0, y < height else { dst.update(repeating: 0, count: count); continue }
                // Tile t reads padded column t·m + p, image column x = t·m + p − 1.
                let first = p == 0 ? 1 : 0
                let end = max(first, min(count, (width - p + m) / m))
                if first > 0 { dst.update(repeating: 0, count: first) }
                if end < count { (dst + end).update(repeating: 0, count: count - end) }
                let offset = y * width + p - 1
                Self.copyStrided(from: source + offset, mask: mask.map { $0 + offset }, extra: extra.map { $0 + offset },
                                 stride: m, range: first..<end, into: dst)
            }
        }
    }

    /// `dst[t] = src[t·stride]` for t in `range`, masked and with `extra` added when given.
    @inline(__always)
    private static func copyStrided(from src: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?,
                                    stride m: Int, range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        switch (mask, extra) {
        case (nil, nil):
            for t in range { dst[t] = src[t * m] }
        case (let mask?, nil):
            for t in range { dst[t] = mask[t * m] > 0 ? src[t * m] : 0 }
        case (let mask?, let extra?):
            for t in range { dst[t] = (mask[t * m] > 0 ? src[t * m] : 0) + extra[t * m] }
        case (nil, let extra?):
            for t in range { dst[t] = src[t * m] + extra[t * m] }
        }
    }

    /// Writes the m rows of tile row `tileRow` from `scratch` into a C×H×W plane, cropping at the
    /// image edge, with optional ReLU and pre-activation copy.
    func scatterRow(_ scratch: UnsafePointer<Float>, tiles: Int, tileRow: Int, height: Int, width: Int,
                    into output: UnsafeMutablePointer<Float>, relu: Bool, preActivation: UnsafeMutablePointer<Float>?) {
        let m = outputSize
        let stride = Self.paddedTiles(tiles) + Self.lanes
        for i in 0..<m {
            let y = tileRow * m + i
            guard y < height else { return }
            for j in 0..<m {
                let src = scratch + (i * m + j) * stride
                // Tile t writes column t·m + j.
                let end = min(tiles, max(0, (width - j + m - 1) / m))
                let out = output + y * width + j
                switch (relu, preActivation.map { $0 + y * width + j }) {
                case (true, let pre?):
                    for t in 0..<end {
                        let v = src[t]
                        pre[t * m] = v
                        out[t * m] = v > 0 ? v : 0
                    }
                case (true, nil):
                    for t in 0..<end { let v = src[t]; out[t * m] = v > 0 ? v : 0 }
                case (false, let pre?):
                    for t in 0..<end { pre[t * m] = src[t]; out[t * m] = src[t] }
                case (false, nil):
                    for t in 0..<end { out[t * m] = src[t] }
                }
            }
        }
    }
}
