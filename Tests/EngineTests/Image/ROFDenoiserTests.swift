import Testing
import TestSupport
@testable import Engine

@Suite("ROF total-variation denoising (Chambolle)")
struct ROFDenoiserTests {
    /// Four flat colour blocks: what ROF recovers best.
    static func blocks(width: Int = 40, height: Int = 32) -> RGBImage {
        let colours: [[Float]] = [[200, 40, 40], [30, 160, 220], [240, 230, 60], [60, 60, 60]]
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let colour = colours[(y < height / 2 ? 0 : 2) + (x < width * 3 / 5 ? 0 : 1)]
                for c in 0..<3 { image.pixels[(y * width + x) * 3 + c] = colour[c] }
            }
        }
        return image
    }

    /// `image` plus seeded Gaussian noise of standard deviation `sd` levels, clamped to 0…255.
    static func noisy(_ image: RGBImage, sd: Float, seed: UInt64) -> RGBImage {
        var rng = SeededRandom(seed: seed)
        var out = image
        for i in out.pixels.indices { out.pixels[i] = min(255, max(0, out.pixels[i] + sd * rng.nextGaussian())) }
        return out
    }

    static func rms(_ a: RGBImage, _ b: RGBImage) -> Float {
        (zip(a.pixels, b.pixels).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(a.pixels.count)).squareRoot()
    }

    @Test func lambdaZeroIsTheIdentity() {
        let image = Self.noisy(Self.blocks(), sd: 10, seed: 1)
        let (out, report) = ROFDenoiser(lambda: 0).denoise(image)
        // /255 then ×255 in Float: a rounding step at most.
        #expect(maxDifference(out.pixels, image.pixels) < 1e-4)
        #expect(report.iterations == 0)
    }

    // u = f − λ·div p with |p| ≤ 1 per pixel, so |u − f| ≤ 4λ on 0…1: 0.102 levels at λ = 1e-4.
    @Test func aTinyLambdaBarelyChangesTheImage() {
        let image = Self.noisy(Self.blocks(), sd: 20, seed: 2)
        let (out, _) = ROFDenoiser(lambda: 1e-4).denoise(image)
        #expect(maxDifference(out.pixels, image.pixels) <= 4e-4 * 255 + 1e-3)
    }

    @Test func onANoisyPiecewiseConstantImageItLowersTheTVAndTheErrorToTheCleanImage() {
        let clean = Self.blocks()
        let image = Self.noisy(clean, sd: 25, seed: 3)
        let (out, report) = ROFDenoiser(lambda: 0.1).denoise(image)
        #expect(report.converged, "bound \(report.rmsBoundLevels) levels after \(report.iterations) iterations")
        #expect(ROFDenoiser.totalVariation(out) < 0.5 * ROFDenoiser.totalVariation(image))
        #expect(abs(report.tvAfter - ROFDenoiser.totalVariation(out)) < 1e-3 * report.tvAfter + 1e-3)
        let before = Self.rms(image, clean), after = Self.rms(out, clean)
        #expect(after < 0.5 * before, "RMS error to the clean image \(before) → \(after) levels")
    }

    // The result must minimise E(u) = ‖u − f‖²/(2λ) + TV(u). E is 1/λ-strongly convex, so for
    // any δ, E(u* + δ) ≥ E(u*) + ‖δ‖²/(2λ); our u is within the duality gap of E(u*), so
    // E(u + δ) > E(u) for every δ with ‖δ‖²/(2λ) larger than that gap. Perturbations of
    // 1 level RMS are 40× the 0.25-level tolerance, far above it.
    @Test(arguments: [UInt64(11), 12, 13, 14])
    func theResultHasALowerROFEnergyThanTheInputAndThanAnyPerturbation(seed: UInt64) {
        let lambda: Float = 0.08
        let image = Self.noisy(Self.blocks(), sd: 30, seed: 4)
        let (out, report) = ROFDenoiser(lambda: lambda).denoise(image)
        let energy = ROFDenoiser.energy(out, noisy: image, lambda: lambda)
        #expect(energy < ROFDenoiser.energy(image, noisy: image, lambda: lambda))
        var rng = SeededRandom(seed: seed)
        var perturbed = out
        for i in perturbed.pixels.indices { perturbed.pixels[i] += rng.nextGaussian() }
        #expect(energy < ROFDenoiser.energy(perturbed, noisy: image, lambda: lambda))
        // A smooth perturbation (a brightness ramp) too, which TV alone would not penalise.
        var ramp = out
        for p in 0..<ramp.pixelCount { for c in 0..<3 { ramp.pixels[3 * p + c] += Float(p % ramp.width) / Float(ramp.width) } }
        #expect(energy < ROFDenoiser.energy(ramp, noisy: image, lambda: lambda))
        #expect(report.rmsBoundLevels <= 0.25)
    }

    // ROF obeys a maximum principle: the result stays within the input's range.
    @Test func theResultStaysWithinTheInputsRange() {
        let image = Self.noisy(Self.blocks(), sd: 40, seed: 5)
        let (out, _) = ROFDenoiser(lambda: 0.2).denoise(image)
        #expect(out.pixels.allSatisfy { $0 >= -1e-2 && $0 <= 255 + 1e-2 })
    }

    @Test func aFlatImageStaysFlat() {
        let image = RGBImage(width: 9, height: 7, fill: 77)
        let (out, report) = ROFDenoiser(lambda: 0.3).denoise(image)
        #expect(maxDifference(out.pixels, image.pixels) < 1e-3)
        #expect(report.tvBefore == 0 && report.converged)
    }

    @Test func theIterationCapIsReportedAsNotConverged() {
        let image = Self.noisy(Self.blocks(), sd: 30, seed: 6)
        let (_, report) = ROFDenoiser(lambda: 0.5, maxIterations: 3).denoise(image)
        #expect(report.iterations == 3 && !report.converged && report.rmsBoundLevels > 0.25)
    }
}
