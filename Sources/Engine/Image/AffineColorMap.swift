/// An affine map of colours, x′ = A·x + b, that gives an image another image's colour mean
/// and covariance: `--preserve-color histogram` (Gatys et al. 2017, "Controlling Perceptual
/// Factors in Neural Style Transfer", §5.1) applies it to each style image before rendering,
/// so the style arrives in the content's palette.
///
/// A = Σc^½ · Σs^−½, both square roots the symmetric ones, from an eigen-decomposition (the
/// paper's "image analogies" variant) rather than Cholesky factors: the result does not depend
/// on the order of the R, G, B channels, and it stays defined when Σs is singular, where a
/// Cholesky factorisation fails. Then A·Σs·Aᵀ = Σc and b = μc − A·μs.
public struct AffineColorMap: Sendable, Equatable {
    public var matrix: Matrix3
    public var offset: SIMD3<Double>

    /// Variance (in 0…255 levels²) added to each of the style's covariance eigenvalues before
    /// the inverse square root. One level² is below what a real image varies by in any colour
    /// direction (a painting's smallest eigenvalue is in the hundreds), so full-rank styles are
    /// matched to within ~1/λ (0.2% at λ = 500), while a flat or single-hue style — zero
    /// variance in some direction — stays finite instead of dividing by zero: its flat
    /// directions are not inflated into noise, and a flat image maps to the content's mean.
    public static let varianceFloor = 1.0

    /// The map that takes colours with statistics `source` to colours with statistics `target`.
    public init(matching source: ColorStatistics, to target: ColorStatistics) {
        let targetRoot = target.covariance.symmetricFunction { $0 > 0 ? $0.squareRoot() : 0 }
        let sourceInverseRoot = source.covariance.symmetricFunction { 1 / (max($0, 0) + Self.varianceFloor).squareRoot() }
        matrix = targetRoot * sourceInverseRoot
        offset = target.mean - matrix * source.mean
    }

    /// The map that gives `image` the colour mean and covariance of `reference`.
    public init(matching image: RGBImage, to reference: RGBImage) {
        self.init(matching: ColorStatistics(of: image), to: ColorStatistics(of: reference))
    }

    /// Every pixel mapped; with `clamping` (the default, as the paper's §5.1 does) the result is
    /// clamped to 0…255, so it is a valid image (and its statistics only approximately match).
    public func apply(to image: RGBImage, clamping: Bool = true) -> RGBImage {
        let r0 = SIMD3<Float>(matrix.rows.0), r1 = SIMD3<Float>(matrix.rows.1), r2 = SIMD3<Float>(matrix.rows.2)
        let b = SIMD3<Float>(offset)
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { px in
            for p in 0..<image.pixelCount {
                let x = SIMD3(px[3 * p], px[3 * p + 1], px[3 * p + 2])
                var y = SIMD3((r0 * x).sum(), (r1 * x).sum(), (r2 * x).sum()) + b
                if clamping { y = y.clamped(lowerBound: .zero, upperBound: SIMD3(repeating: 255)) }
                px[3 * p] = y.x; px[3 * p + 1] = y.y; px[3 * p + 2] = y.z
            }
        }
        return out
    }
}
