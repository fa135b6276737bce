/// The mean colour and the 3×3 colour covariance of an image's pixels (0…255 scale), in Double
/// so that sums over millions of pixels lose nothing that matters.
public struct ColorStatistics: Sendable, Equatable {
    public var mean: SIMD3<Double>
    /// Row-major [R, G, B] × [R, G, B], divided by the pixel count (the population covariance).
    public var covariance: Matrix3

    public init(of image: RGBImage) {
        let n = image.pixelCount
        var sum = SIMD3<Double>()
        image.pixels.withUnsafeBufferPointer { px in
            for p in 0..<n { sum += SIMD3(Double(px[3 * p]), Double(px[3 * p + 1]), Double(px[3 * p + 2])) }
        }
        let mean = sum / Double(n)
        // Two passes (mean first) rather than Σx² − nμ²: the one-pass form cancels badly for
        // nearly flat images, which are exactly the degenerate inputs this must handle.
        var c = Matrix3()
        image.pixels.withUnsafeBufferPointer { px in
            for p in 0..<n {
                let d = SIMD3(Double(px[3 * p]), Double(px[3 * p + 1]), Double(px[3 * p + 2])) - mean
                c.rows.0 += d.x * d
                c.rows.1 += d.y * d
                c.rows.2 += d.z * d
            }
        }
        self.mean = mean
        covariance = c.scaled(by: 1 / Double(n))
    }
}
