import Testing
import TestSupport
@testable import Engine

@Suite("Colour preservation: luminance transfer and histogram matching")
struct ColorTransferTests {
    func yuv(_ image: RGBImage, _ p: Int) -> SIMD3<Float> {
        ColorTransfer.yuv(SIMD3(image.pixels[3 * p], image.pixels[3 * p + 1], image.pixels[3 * p + 2]))
    }

    // Each output sample is a few Float operations on values ≤ 255: rounding stays under 1e-3.
    @Test func theLuminanceModeKeepsTheContentsChromaAndTheOutputsLuminance() {
        let content = SampleImages.pattern(width: 24, height: 16, seed: 4)
        // A "stylised" image that overshoots 0…255, as an optimiser's output does.
        var stylised = randomImage(width: 24, height: 16, wholeLevels: false, seed: 9)
        for i in stylised.pixels.indices { stylised.pixels[i] = stylised.pixels[i] * 1.3 - 30 }
        let out = ColorTransfer.combining(luminanceOf: stylised, chromaOf: content)
        var kept = 0
        for p in 0..<content.pixelCount {
            let want = yuv(content, p), got = yuv(out, p), styled = yuv(stylised, p)
            // (Y, U, V) in (x, y, z).
            #expect(abs(got.y - want.y) < 1e-3 && abs(got.z - want.z) < 1e-3, "chroma differs at pixel \(p)")
            // The luminance is the stylised one unless it had to be clamped to keep the colour in gamut.
            if abs(got.x - styled.x) < 1e-3 { kept += 1 }
        }
        #expect(out.pixels.allSatisfy { $0 >= -1e-3 && $0 <= 255 + 1e-3 }, "the result must be a valid image")
        #expect(kept > content.pixelCount / 2, "most pixels keep the stylised luminance (\(kept) of \(content.pixelCount))")
    }

    @Test func aGreyContentGivesAGreyResult() {
        let content = RGBImage(width: 4, height: 4, fill: 90)
        let stylised = randomImage(width: 4, height: 4, wholeLevels: true, seed: 1)
        let out = ColorTransfer.combining(luminanceOf: stylised, chromaOf: content)
        for p in 0..<out.pixelCount {
            let px = out.pixels[3 * p..<3 * p + 3]
            #expect(px.max()! - px.min()! < 1e-3)
            #expect(abs(px.first! - ColorTransfer.luma(SIMD3(stylised.pixels[3 * p], stylised.pixels[3 * p + 1], stylised.pixels[3 * p + 2]))) < 1e-3)
        }
    }

    // The map is computed in Double and applied in Float: means agree to ~1e-4 levels. The
    // covariance matches up to the variance floor's factor λ/(λ + 1) per eigen-direction, so
    // with every style eigenvalue ≥ 200 levels² the error is below 0.5% of the largest entry;
    // 1% leaves room for Float rounding.
    @Test(arguments: [(UInt64(1), UInt64(2)), (3, 4), (5, 7)])
    func matchingGivesTheStyleTheContentsColourMeanAndCovariance(seeds: (UInt64, UInt64)) {
        let style = SampleImages.pattern(width: 40, height: 30, seed: seeds.0)
        let content = SampleImages.pattern(width: 32, height: 36, seed: seeds.1)
        let target = ColorStatistics(of: content)
        #expect(ColorStatistics(of: style).covariance.symmetricEigen().values.min() >= 200, "the fixture must be full-rank")
        let mapped = AffineColorMap(matching: style, to: content).apply(to: style, clamping: false)
        let got = ColorStatistics(of: mapped)
        #expect(abs(got.mean - target.mean).max() < 1e-2, "mean \(got.mean) vs \(target.mean)")
        let error = (got.covariance - target.covariance).maxMagnitude
        #expect(error < 0.01 * target.covariance.maxMagnitude, "covariance off by \(error) of \(target.covariance.maxMagnitude)")
    }

    @Test func theClampedResultIsAValidImage() {
        let style = SampleImages.pattern(width: 20, height: 20, seed: 2)
        var content = SampleImages.pattern(width: 20, height: 20, seed: 3)
        for i in content.pixels.indices { content.pixels[i] = min(255, content.pixels[i] * 1.8) }   // wider spread: overshoots
        let mapped = AffineColorMap(matching: style, to: content).apply(to: style)
        #expect(mapped.pixels.allSatisfy { $0 >= 0 && $0 <= 255 })
    }

    /// An 8×8 image whose pixel p is `colour(p)`.
    static func image(_ colour: (Int) -> [Float]) -> RGBImage {
        RGBImage(width: 8, height: 8, pixels: (0..<64).flatMap(colour))
    }

    static let degenerateStyles: [(String, RGBImage)] = [
        ("flat colour", image { _ in [120, 30, 200] }),
        ("grey ramp (rank 1)", image { p in [Float](repeating: Float(p * 3), count: 3) }),
        ("blue follows red (rank 2)", image { p in [Float(p * 3), Float((p * 37) % 256), Float(p * 3)] }),
        ("black", RGBImage(width: 8, height: 8, fill: 0)),
    ]

    @Test(arguments: degenerateStyles.indices)
    func aDegenerateStyleGivesFiniteColoursAtTheContentsMean(index: Int) {
        let (_, style) = Self.degenerateStyles[index]
        let content = SampleImages.pattern(width: 16, height: 12, seed: 6)
        let map = AffineColorMap(matching: style, to: content)
        let mapped = map.apply(to: style, clamping: false)
        #expect(mapped.pixels.allSatisfy { $0.isFinite })
        // b = μc − A·μs holds whatever A is, so the mean always moves to the content's.
        #expect(abs(ColorStatistics(of: mapped).mean - ColorStatistics(of: content).mean).max() < 1e-2)
        if index == 0 || index == 3 {
            #expect(mapped.pixels.indices.allSatisfy { abs(mapped.pixels[$0] - Float(ColorStatistics(of: content).mean[$0 % 3])) < 1e-2 },
                    "a flat style becomes the content's mean colour")
        }
    }

    @Test func aFlatContentFlattensTheStyleToItsColour() {
        let style = SampleImages.pattern(width: 10, height: 10, seed: 1)
        let content = RGBImage(width: 5, height: 5, pixels: (0..<25).flatMap { _ in [Float(10), 200, 90] })
        let mapped = AffineColorMap(matching: style, to: content).apply(to: style)
        #expect(mapped.pixels.indices.allSatisfy { abs(mapped.pixels[$0] - [10, 200, 90][$0 % 3]) < 1e-2 })
    }
}

@Suite("3×3 symmetric eigen-decomposition")
struct SymmetricEigenTests {
    static let matrices: [Matrix3] = [
        Matrix3(rows: (SIMD3(4, 1, 2), SIMD3(1, 3, 0.5), SIMD3(2, 0.5, 5))),
        Matrix3(rows: (SIMD3(2500, 2400, 2300), SIMD3(2400, 2500, 2400), SIMD3(2300, 2400, 2500))),
        Matrix3(rows: (SIMD3(1, 1, 1), SIMD3(1, 1, 1), SIMD3(1, 1, 1))),   // rank 1
        Matrix3(),                                                           // zero
        Matrix3.diagonal(SIMD3(3, 1e-12, 7)),
    ]

    // Jacobi rotations are backward stable: errors of a few ulps of the largest entry.
    @Test(arguments: matrices.indices)
    func theDecompositionRebuildsTheMatrixWithOrthonormalVectors(index: Int) {
        let m = Self.matrices[index]
        let (values, vectors) = m.symmetricEigen()
        let rebuilt = vectors * Matrix3.diagonal(values) * vectors.transposed
        #expect((rebuilt - m).maxMagnitude <= 1e-12 * max(m.maxMagnitude, 1))
        #expect((vectors.transposed * vectors - Matrix3.identity).maxMagnitude < 1e-12)
    }
}

private func abs(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(Swift.abs(v.x), Swift.abs(v.y), Swift.abs(v.z)) }
