import Testing
@testable import Engine

@Suite("Resampling images and planes")
struct ResamplerTests {
    struct Resize: Sendable, CustomStringConvertible {
        let from: (Int, Int)
        let to: (Int, Int)
        var description: String { "\(from.0)×\(from.1) → \(to.0)×\(to.1)" }
    }

    static let resizes: [Resize] = [
        Resize(from: (64, 48), to: (32, 24)), Resize(from: (64, 48), to: (17, 5)),
        Resize(from: (10, 10), to: (33, 27)), Resize(from: (1, 1), to: (4, 3)),
        Resize(from: (7, 300), to: (7, 11)), Resize(from: (300, 2), to: (1, 1)),
    ]

    // Every filter's weights are normalised to sum to 1, so a constant comes back as itself up
    // to float rounding: a few ulps of 200 per tap, far below 1e-3.
    @Test("a constant image stays constant", arguments: ResampleFilter.allCases, resizes)
    func constantStaysConstant(filter: ResampleFilter, resize: Resize) {
        let image = RGBImage(width: resize.from.0, height: resize.from.1, fill: 200)
        let out = Resampler.resize(image, width: resize.to.0, height: resize.to.1, filter: filter)
        #expect(out.width == resize.to.0 && out.height == resize.to.1)
        #expect(out.pixels.count == resize.to.0 * resize.to.1 * 3)
        #expect(out.pixels.allSatisfy { abs($0 - 200) < 1e-3 })
    }

    @Test("area 2× downsampling averages each 2×2 block exactly")
    func areaHalvesExactly() {
        // Values chosen so every 2×2 average is exact in binary floating point.
        let plane: [Float] = [
            0, 4, 8, 8,
            8, 4, 0, 0,
            1, 2, 100, 200,
            3, 6, 50, 30,
        ]
        let out = Resampler.resizePlane(plane, width: 4, height: 4, toWidth: 2, toHeight: 2, filter: .area)
        #expect(out == [4, 4, 3, 95])
    }

    @Test("area downsampling by 3 to 2 weighs partly covered pixels by the fraction covered")
    func areaCountsFractionalCoverage() {
        // Output 0 covers [0, 1.5): pixel 0 fully, pixel 1 half → (3 + 0.5·6) / 1.5 = 4.
        // Output 1 covers [1.5, 3): pixel 1 half, pixel 2 fully → (0.5·6 + 9) / 1.5 = 8.
        let out = Resampler.resizePlane([3, 6, 9], width: 3, height: 1, toWidth: 2, toHeight: 1, filter: .area)
        #expect(maxDifference(out, [4, 8]) < 1e-5)  // float weights: 2/3 and 1/3 are inexact
    }

    // Lanczos weights are symmetric about the sample centre and sum to 1, so a linear ramp is
    // reproduced where the kernel fits inside the image. Away from the borders the only error
    // is float rounding and the kernel's discretisation: well under 0.05 of a level.
    @Test("lanczos3 downsampling of a smooth gradient stays on the gradient", arguments: [2, 3, 5])
    func lanczosFollowsGradient(factor: Int) {
        let width = 120, height = 4
        let slope: Float = 2
        let plane = (0..<height).flatMap { _ in (0..<width).map { Float($0) * slope } }
        let outWidth = width / factor
        let out = Resampler.resizePlane(plane, width: width, height: height, toWidth: outWidth, toHeight: 2)
        for y in 0..<2 {
            for x in 2 * 3..<outWidth - 2 * 3 {  // skip where the widened kernel meets the border
                let centre = (Float(x) + 0.5) * Float(factor) - 0.5
                #expect(abs(out[y * outWidth + x] - centre * slope) < 0.05, "x = \(x)")
            }
        }
    }

    @Test("resizing to the same size returns the image unchanged", arguments: ResampleFilter.allCases)
    func sameSizeIsIdentity(filter: ResampleFilter) {
        let image = randomImage(width: 13, height: 9, wholeLevels: false, seed: 4)
        #expect(Resampler.resize(image, width: 13, height: 9, filter: filter) == image)
    }

    @Test("lanczos3 ringing is clamped to 0…255 for images and to the given range for planes")
    func ringingIsClamped() {
        let edge = (0..<8).flatMap { _ in (0..<16).map { $0 < 8 ? Float(0) : 1 } }
        let free = Resampler.resizePlane(edge, width: 16, height: 8, toWidth: 40, toHeight: 8)
        #expect(free.min()! < 0 && free.max()! > 1)  // without a range, lanczos overshoots
        let clamped = Resampler.resizePlane(edge, width: 16, height: 8, toWidth: 40, toHeight: 8, clampingTo: 0...1)
        #expect(clamped.min()! == 0 && clamped.max()! == 1)

        let image = RGBImage(width: 16, height: 8, pixels: edge.flatMap { [$0 * 255, $0 * 255, $0 * 255] })
        let out = Resampler.resize(image, width: 40, height: 8)
        #expect(out.pixels.min()! == 0 && out.pixels.max()! == 255)
    }

    @Test("resizing RGB gives the same result as resizing each channel as a plane", arguments: ResampleFilter.allCases)
    func rgbMatchesPlanes(filter: ResampleFilter) {
        let image = randomImage(width: 23, height: 17, wholeLevels: false, seed: 5)
        let out = Resampler.resize(image, width: 10, height: 31, filter: filter)
        for c in 0..<3 {
            let plane = stride(from: c, to: image.pixels.count, by: 3).map { image.pixels[$0] }
            let resized = Resampler.resizePlane(plane, width: 23, height: 17, toWidth: 10, toHeight: 31,
                                                filter: filter, clampingTo: 0...255)
            #expect(stride(from: c, to: out.pixels.count, by: 3).map { out.pixels[$0] } == resized)
        }
    }

    @Test("fitting the longest side scales the other side and rounds it to the nearest pixel",
          arguments: [
              (512, 1000, 750, 512, 384), (512, 750, 1000, 384, 512), (100, 3, 2, 100, 67),
              (5, 4, 2, 5, 3),  // 2.5 rounds up (halves away from zero)
              (100, 10000, 1, 100, 1),  // 0.01 → at least 1
              (256, 300, 300, 256, 256), (2000, 1000, 500, 2000, 1000),
          ])
    func fittingLongestSide(n: Int, width: Int, height: Int, expectedWidth: Int, expectedHeight: Int) {
        let size = Resampler.size(fittingLongestSide: n, width: width, height: height)
        #expect(size.width == expectedWidth && size.height == expectedHeight)
    }
}
