import Testing
import TestSupport
@testable import Engine

@Suite("Decoding JPEG images")
struct ImageFileJPEGDecodingTests {
    /// A smooth 32×24 colour gradient: JPEG's best case, so errors measure the decoder path
    /// rather than the codec's struggle with edges.
    static func gradient(width: Int = 32, height: Int = 24) -> [UInt8] {
        var samples: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                samples += [UInt8(x * 255 / (width - 1)), UInt8(y * 255 / (height - 1)), UInt8(128 + (x - y))]
            }
        }
        return samples
    }

    // Quality 95 without chroma subsampling on a smooth gradient: a correct decode is within a
    // few levels everywhere (measured ≤ 3); a decode with swapped channels, wrong stride or
    // wrong colour conversion is off by tens of levels.
    @Test("an RGB JPEG decodes close to its source (within 6 levels, mean under 1.5)")
    func rgbDecodesCloseToSource() throws {
        let source = Self.gradient()
        let jpeg = try JPEGFixture.encode(source, width: 32, height: 24)
        let image = try ImageFile.decode(jpeg, name: "gradient.jpg")
        #expect(image.width == 32 && image.height == 24)
        let expected = source.map(Float.init)
        let errors = zip(image.pixels, expected).map { abs($0 - $1) }
        #expect(errors.max()! <= 6)
        #expect(errors.reduce(0, +) / Float(errors.count) < 1.5)
    }

    @Test("a greyscale JPEG decodes to RGB with equal channels")
    func greyDecodesToEqualChannels() throws {
        let source = (0..<64).map { UInt8($0 * 4) }
        let jpeg = try JPEGFixture.encode(source, width: 8, height: 8, layout: .grey)
        let image = try ImageFile.decode(jpeg, name: "grey.jpg")
        for p in 0..<image.pixelCount {
            #expect(image.pixels[p * 3] == image.pixels[p * 3 + 1] && image.pixels[p * 3 + 1] == image.pixels[p * 3 + 2])
        }
        // Same quality argument as for RGB.
        #expect(maxDifference(stride(from: 0, to: 192, by: 3).map { image.pixels[$0] }, source.map(Float.init)) <= 6)
    }

    @Test("a CMYK JPEG is refused as unsupported, saying to convert it to RGB")
    func cmykIsRefused() throws {
        let jpeg = try JPEGFixture.encode([UInt8](repeating: 40, count: 8 * 8 * 4), width: 8, height: 8, layout: .cmyk)
        let error = expectEngineError(.unsupportedImage) { _ = try ImageFile.decode(jpeg, name: "print.jpg") }
        #expect(error?.message.contains("'print.jpg'") == true)
        #expect(error?.message.contains("CMYK") == true)
    }
}
