/// Moving one row of Winograd tiles between a C×H×W plane and the per-thread scratch that the
/// SIMD transforms read and write (layout in `WinogradTransform+Tiles`).
///
/// Each phase's columns that fall inside the image form one range of tiles, computed once, so
/// the copies run without a bounds test per element, and the optional mask, extra term, ReLU and
/// pre-activation copy each select a loop instead of being tested per element: with those tests
/// inside, gathering and scattering took 16 % of an F(4×4) iteration. F(4×4), the method `auto`
/// uses, goes further: whole rows move contiguously with SIMD, and the phases are split and
/// joined by 4 × 8 transposes in the scratch.
extension WinogradTransform {
    /// Splits the α rows of tile row `tileRow` of one channel (zero outside the image) by column
    /// phase into `scratch` (row r, phase p at `(r·m + p)·stride`). With `mask`, values whose mask
    /// is not positive become 0 (ReLU backward); `extra` is added after.
    ///
    /// F(4×4) first copies the row, masked, into a zero-padded row (contiguous SIMD), then splits
    /// it in blocks of 8 tiles with a 4 × 8 transpose: strided scalar copies took 10 % of an
    /// iteration, and most of it was the edges and narrow rows no SIMD block fitted into.
    @inline(never)   // out of line: a profile then shows each step
    func gatherRow(_ source: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?,
                   height: Int, width: Int, tileRow: Int, tiles: Int, into scratch: UnsafeMutablePointer<Float>) {
        let m = outputSize
        let stride = Self.scratchStride(tiles)
        let count = Self.paddedTiles(tiles) + 1
        let padded = scratch + inputSize * m * stride     // m·stride floats (`scratchFloats`)
        for r in 0..<inputSize {
            let y = tileRow * m + r - 1
            let row = scratch + r * m * stride
            guard y >= 0, y < height else { row.update(repeating: 0, count: (m - 1) * stride + count); continue }
            let offset = y * width
            let (source, mask, extra) = (source + offset, mask.map { $0 + offset }, extra.map { $0 + offset })
            if m == 4 {
                Self.padRow(source, mask: mask, extra: extra, width: width, into: padded, length: 4 * stride)
                Self.splitPhasesF4(padded, count: count, stride: stride, into: row)
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

    /// `padded[1 + x]` = the row's column x, masked and with `extra` added, for x < width; zero at
    /// 0 (the padding column) and from `1 + width` to `length`.
    @inline(__always)
    private static func padRow(_ source: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?,
                               width: Int, into padded: UnsafeMutablePointer<Float>, length: Int) {
        padded[0] = 0
        let vectorEnd = width - width % lanes
        let zero = Lanes(repeating: 0)
        var x = 0
        while x < vectorEnd {
            var v = load(source + x)
            if let mask { v.replace(with: zero, where: .!(load(mask + x) .> zero)) }
            if let extra { v += load(extra + x) }
            store(v, padded + 1 + x)
            x += lanes
        }
        copyStrided(from: source, mask: mask, extra: extra, stride: 1, range: vectorEnd..<width, into: padded + 1)
        (padded + 1 + width).update(repeating: 0, count: length - 1 - width)
    }

    /// F(4×4)'s phase split of a padded row, 8 tiles at a time: phase p of tile t is padded
    /// column 4t + p, so tiles t0 … t0 + 7 are four contiguous loads and a 4 × 8 transpose.
    /// Writes up to 7 tiles past `count` (inside `stride`).
    @inline(__always)
    private static func splitPhasesF4(_ padded: UnsafePointer<Float>, count: Int, stride: Int,
                                      into row: UnsafeMutablePointer<Float>) {
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
        let stride = Self.scratchStride(tiles)
        if m == 4 {
            // F(4×4) joins each output row's phases in a row of the scratch (a 4 × 8 transpose per
            // 8 tiles), then writes it contiguously.
            let joined = scratch + inputSize * m * stride
            for i in 0..<m {
                let y = tileRow * m + i
                guard y < height else { return }
                Self.joinPhasesF4(scratch + i * m * stride, tiles: tiles, stride: stride, into: joined)
                Self.writeRow(joined, width: width, into: output + y * width, relu: relu,
                              preActivation: preActivation.map { $0 + y * width })
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

    /// The inverse of `splitPhasesF4`: output row columns 4t … 4t + 3 from phases 0 … 3 of tile t,
    /// for whole blocks of 8 tiles (up to 4·paddedTiles columns; those past the width are junk).
    @inline(__always)
    private static func joinPhasesF4(_ row: UnsafePointer<Float>, tiles: Int, stride: Int,
                                     into joined: UnsafeMutablePointer<Float>) {
        for t0 in Swift.stride(from: 0, to: tiles, by: lanes) {
            let s = (load(row + t0), load(row + stride + t0), load(row + 2 * stride + t0), load(row + 3 * stride + t0))
            for q in 0..<4 {
                let k = 2 * q
                store(Lanes(s.0[k], s.1[k], s.2[k], s.3[k], s.0[k + 1], s.1[k + 1], s.2[k + 1], s.3[k + 1]),
                      joined + 4 * t0 + 8 * q)
            }
        }
    }

    /// `output[x] = row[x]` for x < width, through ReLU when asked, and the value before it into
    /// `preActivation` when given.
    @inline(__always)
    private static func writeRow(_ row: UnsafePointer<Float>, width: Int, into output: UnsafeMutablePointer<Float>,
                                 relu: Bool, preActivation: UnsafeMutablePointer<Float>?) {
        let vectorEnd = width - width % lanes
        let zero = Lanes(repeating: 0)
        var x = 0
        while x < vectorEnd {
            var v = load(row + x)
            if let preActivation { store(v, preActivation + x) }
            if relu { v.replace(with: zero, where: .!(v .> zero)) }
            store(v, output + x)
            x += lanes
        }
        while x < width {
            let v = row[x]
            preActivation?[x] = v
            output[x] = relu ? (v > 0 ? v : 0) : v
            x += 1
        }
    }
}
