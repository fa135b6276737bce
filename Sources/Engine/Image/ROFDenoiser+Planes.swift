/// The buffers of Chambolle's iteration: the input f, the current u = f − λ·div p and the dual
/// field p = (px, py), all as three planes (R, G, B) of 0…1 samples, row-major. Allocated once;
/// the iteration allocates nothing.
struct ROFPlanes {
    let width: Int
    let height: Int
    var f: [Float]
    var u: [Float]
    var px: [Float]
    var py: [Float]

    /// τ in Chambolle's update.
    static let tau: Float = 0.25

    init(_ image: RGBImage, clamping: Bool = true) {
        width = image.width
        height = image.height
        let n = image.pixelCount
        var planes = [Float](repeating: 0, count: 3 * n)
        for p in 0..<n {
            for c in 0..<3 {
                let v = image.pixels[3 * p + c]
                planes[c * n + p] = (clamping ? min(max(v, 0), 255) : v) / 255
            }
        }
        f = planes
        u = planes
        px = [Float](repeating: 0, count: 3 * n)
        py = [Float](repeating: 0, count: 3 * n)
    }

    func image(from planes: [Float]) -> RGBImage {
        let n = width * height
        var pixels = [Float](repeating: 0, count: 3 * n)
        for p in 0..<n { for c in 0..<3 { pixels[3 * p + c] = planes[c * n + p] * 255 } }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// u = f − λ·div p, with div the negative adjoint of the forward-difference gradient.
    mutating func updateU(lambda: Float) {
        let w = width, h = height, n = w * h
        f.withUnsafeBufferPointer { f in
            px.withUnsafeBufferPointer { px in
                py.withUnsafeBufferPointer { py in
                    u.withUnsafeMutableBufferPointer { u in
                        for c in 0..<3 {
                            let base = c * n
                            for y in 0..<h {
                                for x in 0..<w {
                                    let i = base + y * w + x
                                    var div = (x < w - 1 ? px[i] : 0) - (x > 0 ? px[i - 1] : 0)
                                    div += (y < h - 1 ? py[i] : 0) - (y > 0 ? py[i - w] : 0)
                                    u[i] = f[i] - lambda * div
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One iteration: u from the current p, then p moved towards the projection.
    mutating func step(lambda: Float) {
        updateU(lambda: lambda)
        let w = width, h = height, n = w * h
        let scale = Self.tau / lambda
        u.withUnsafeBufferPointer { u in
            px.withUnsafeMutableBufferPointer { px in
                py.withUnsafeMutableBufferPointer { py in
                    for y in 0..<h {
                        for x in 0..<w {
                            let (gx, gy) = Self.gradient(u, x: x, y: y, width: w, height: h)
                            let denominator = 1 + scale * ((gx * gx).sum() + (gy * gy).sum()).squareRoot()
                            for c in 0..<3 {
                                let j = c * n + y * w + x
                                px[j] = (px[j] - scale * gx[c]) / denominator
                                py[j] = (py[j] - scale * gy[c]) / denominator
                            }
                        }
                    }
                }
            }
        }
    }

    /// Σ(|∇u| + ∇u·p) for the current u and p: P(u) − D(p) ≥ 0 (u must be current).
    func dualityGap() -> Double {
        var gap = 0.0
        forEachGradient(of: u) { i, gx, gy, norm in
            let n = width * height
            let pxv = SIMD3(px[i], px[n + i], px[2 * n + i]), pyv = SIMD3(py[i], py[n + i], py[2 * n + i])
            gap += Double(norm + (gx * pxv).sum() + (gy * pyv).sum())
        }
        return gap
    }

    /// Vectorial TV, Σ_pixels |∇planes|.
    func totalVariation(of planes: [Float]) -> Double {
        var tv = 0.0
        forEachGradient(of: planes) { _, _, _, norm in tv += Double(norm) }
        return tv
    }

    /// Calls `body(pixel, ∂x, ∂y, |∇|)` for every pixel, channels as SIMD lanes.
    private func forEachGradient(of planes: [Float], _ body: (Int, SIMD3<Float>, SIMD3<Float>, Float) -> Void) {
        let w = width, h = height
        planes.withUnsafeBufferPointer { v in
            for y in 0..<h {
                for x in 0..<w {
                    let (gx, gy) = Self.gradient(v, x: x, y: y, width: w, height: h)
                    body(y * w + x, gx, gy, ((gx * gx).sum() + (gy * gy).sum()).squareRoot())
                }
            }
        }
    }

    /// Forward differences at (x, y) in each of the three planes; 0 across the last column or
    /// row (Neumann boundary).
    @inline(__always)
    static func gradient(_ v: UnsafeBufferPointer<Float>, x: Int, y: Int, width w: Int, height h: Int) -> (SIMD3<Float>, SIMD3<Float>) {
        let n = w * h, i = y * w + x
        var gx = SIMD3<Float>(), gy = SIMD3<Float>()
        for c in 0..<3 {
            let j = c * n + i
            gx[c] = x < w - 1 ? v[j + 1] - v[j] : 0
            gy[c] = y < h - 1 ? v[j + w] - v[j] : 0
        }
        return (gx, gy)
    }
}
