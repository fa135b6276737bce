/// Moving one row of Winograd tiles between a C×H×W plane and the per-thread scratch that the
/// SIMD transforms read and write (layout in `WinogradTransform+Tiles`).
///
/// Each phase's columns that fall inside the image form one range of tiles, computed once, so
/// the copies run without a bounds test per element, and the optional mask, extra term, ReLU and
/// pre-activation copy each select a loop instead of being tested per element: with those tests
/// inside, gathering and scattering took 16 % of an F(4×4) iteration. F(4×4), the method `auto`
/// uses, goes further (`WinogradF4Kernels`): whole rows move contiguously with SIMD, and the
/// phases are split and joined by 4 × 8 transposes in the scratch.
extension WinogradTransform {
    /// Splits the α rows of tile row `tileRow` of one channel (zero outside the image) by column
    /// phase into `scratch` (row r, phase p at `(r·m + p)·stride`). With `mask`, values whose mask
    /// is not positive become 0 (ReLU backward); `extra` is added after.
    ///
    /// F(4×4) copies the row, masked, into a zero-padded row, then splits it by 4 × 8
    /// transposes: strided scalar copies took 10 % of an iteration, most of it at the edges.
    @inline(never)   // out of line: a profile then shows each step
    func gatherRow(_ source: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?,
                   height: Int, width: Int, tileRow: Int, tiles: Int, into scratch: UnsafeMutablePointer<Float>) {
        let m = outputSize
        let stride = Self.paddedTiles(tiles) + Self.lanes
        let count = Self.paddedTiles(tiles) + 1
        let padded = scratch + inputSize * m * stride     // m·stride floats (`scratchFloats`)
        for r in 0..<inputSize {
            let y = tileRow * m + r - 1
            let row = scratch + r * m * stride
            guard y >= 0, y < height else { row.update(repeating: 0, count: (m - 1) * stride + count); continue }
            let offset = y * width
            let (source, mask, extra) = (source + offset, mask.map { $0 + offset }, extra.map { $0 + offset })
            if let kernels = f4Kernels {
                kernels.gatherRow(source, mask: mask, extra: extra, width: width, count: count, stride: stride,
                                  padded: padded, into: row)
                continue
            }
            for p in 0..<m {
                let dst = row + p * stride
                // Tile t reads padded column t·m + p, image column x = t·m + p − 1.
                let first = p == 0 ? 1 : 0
                let end = max(first, min(count, (width - p + m) / m))
                if first > 0 { dst.update(repeating: 0, count: first) }
                if end < count { (dst + end).update(repeating: 0, count: count - end) }
                Self.copyStrided(from: source + p - 1, mask: mask.map { $0 + p - 1 }, extra: extra.map { $0 + p - 1 },
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
    /// image edge, with optional ReLU and pre-activation copy. F(4×4) uses the scratch's last
    /// `m·stride` floats to join a row.
    @inline(never)   // out of line: a profile then shows each step
    func scatterRow(_ scratch: UnsafeMutablePointer<Float>, tiles: Int, tileRow: Int, height: Int, width: Int,
                    into output: UnsafeMutablePointer<Float>, relu: Bool, preActivation: UnsafeMutablePointer<Float>?) {
        let m = outputSize
        let stride = Self.paddedTiles(tiles) + Self.lanes
        if let kernels = f4Kernels {
            let joined = scratch + inputSize * m * stride
            for i in 0..<m {
                let y = tileRow * m + i
                guard y < height else { return }
                kernels.scatterRow(scratch + i * m * stride, tiles: tiles, stride: stride, joined: joined, width: width,
                                   into: output + y * width, relu: relu, preActivation: preActivation.map { $0 + y * width })
            }
            return
        }
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
