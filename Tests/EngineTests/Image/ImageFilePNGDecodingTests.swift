import Testing
import TestSupport
@testable import Engine

@Suite("Decoding PNG images")
struct ImageFilePNGDecodingTests {
    @Test("an 8-bit RGB PNG decodes to exactly its samples")
    func rgb8BitDecodesExactly() throws {
        let samples = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 128, 128, 128, 1, 2, 3]
        let png = PNGBuilder(width: 3, height: 2, colourType: .rgb, samples: samples).encoded()
        let image = try ImageFile.decode(png, name: "rgb.png")
        #expect(image.width == 3 && image.height == 2)
        #expect(image.pixels == samples.map(Float.init))
    }

    @Test("a greyscale PNG decodes to RGB with equal channels")
    func greyDecodesToEqualChannels() throws {
        let png = PNGBuilder(width: 2, height: 2, colourType: .grey, samples: [0, 64, 200, 255]).encoded()
        let image = try ImageFile.decode(png, name: "grey.png")
        #expect(image.pixels == [0, 0, 0, 64, 64, 64, 200, 200, 200, 255, 255, 255])
    }

    @Test("a 1-bit greyscale PNG decodes to black and white")
    func oneBitGreyDecodes() throws {
        let png = PNGBuilder(width: 3, height: 1, colourType: .grey, bitDepth: 1, samples: [1, 0, 1]).encoded()
        let image = try ImageFile.decode(png, name: "bits.png")
        #expect(image.pixels == [255, 255, 255, 0, 0, 0, 255, 255, 255])
    }

    // libpng blends in linear light and re-encodes to 8-bit sRGB, so half-transparent pixels
    // can land one level away from a blend computed on encoded values; opaque and fully
    // transparent pixels are exact.
    @Test("grey+alpha PNG pixels are composited on white")
    func greyAlphaCompositesOnWhite() throws {
        let png = PNGBuilder(width: 3, height: 1, colourType: .greyAlpha,
                             samples: [0, 255, 0, 0, 100, 128]).encoded()
        let image = try ImageFile.decode(png, name: "ga.png")
        #expect(Array(image.pixels[0..<6]) == [0, 0, 0, 255, 255, 255])
        // 50 % grey level 100 over white: between 100 and 255, and grey.
        let blended = Array(image.pixels[6..<9])
        #expect(blended[0] == blended[1] && blended[1] == blended[2])
        #expect(blended[0] > 150 && blended[0] < 230)
    }

    @Test("RGBA PNG: opaque pixels keep their colour and transparent ones become white")
    func rgbaCompositesOnWhite() throws {
        let png = PNGBuilder(width: 2, height: 1, colourType: .rgba,
                             samples: [10, 20, 30, 255, 0, 0, 0, 0]).encoded()
        let image = try ImageFile.decode(png, name: "rgba.png")
        #expect(image.pixels == [10, 20, 30, 255, 255, 255])
    }

    @Test("a palette PNG decodes to its palette colours, with tRNS transparency over white")
    func paletteDecodes() throws {
        var builder = PNGBuilder(width: 4, height: 1, colourType: .palette, samples: [0, 1, 2, 1])
        builder.palette = [(200, 10, 20), (0, 128, 255), (7, 7, 7)]
        builder.paletteAlpha = [255, 255, 0]
        let image = try ImageFile.decode(builder.encoded(), name: "palette.png")
        #expect(image.pixels == [200, 10, 20, 0, 128, 255, 255, 255, 255, 0, 128, 255])
    }

    @Test("an untagged 16-bit PNG keeps all 16 bits")
    func untagged16BitIsExact() throws {
        // Levels that 8 bits cannot represent: 1/257 apart on the 0…255 scale.
        let levels = [0, 1, 257, 258, 32768, 65534, 65535]
        let samples = levels.flatMap { [$0, $0, $0] }
        let png = PNGBuilder(width: levels.count, height: 1, colourType: .rgb, bitDepth: 16, samples: samples).encoded()
        let image = try ImageFile.decode(png, name: "deep.png")
        // Float(v) / 257 is the nearest float to the exact quotient; compare with that.
        #expect(image.pixels == samples.map { Float($0) / 257 })
    }

    @Test("an untagged 16-bit grey+alpha PNG is composited on white at 16-bit precision")
    func untagged16BitAlpha() throws {
        let png = PNGBuilder(width: 3, height: 1, colourType: .greyAlpha, bitDepth: 16,
                             samples: [1000, 65535, 0, 0, 0, 32768]).encoded()
        let image = try ImageFile.decode(png, name: "ga16.png")
        // Opaque level 1000 passes through; transparent is white; half-transparent black is
        // half white, 32767/257 ≈ 127.5. libpng premultiplies with 16-bit integer rounding,
        // so allow one 16-bit level (1/257).
        let expected: [Float] = [1000.0 / 257, 1000.0 / 257, 1000.0 / 257, 255, 255, 255,
                                 32767.0 / 257, 32767.0 / 257, 32767.0 / 257]
        #expect(maxDifference(image.pixels, expected) <= 1.0 / 257)
    }

    @Test("a 16-bit PNG tagged as linear is converted to sRGB")
    func taggedLinear16BitIsConverted() throws {
        // Linear 0.5 is sRGB 0.735 (level 187.5). libpng converts this through 8 bits with a
        // 2.2 power law rather than the exact sRGB curve: allow 2 levels.
        var builder = PNGBuilder(width: 1, height: 1, colourType: .rgb, bitDepth: 16, samples: [32768, 32768, 32768])
        builder.gamma = 100_000
        let image = try ImageFile.decode(builder.encoded(), name: "linear.png")
        #expect(maxDifference(image.pixels, [187.5, 187.5, 187.5]) <= 2)
    }

    @Test("a PNG named .jpg is still read as PNG")
    func formatComesFromContentNotName() throws {
        let png = PNGBuilder(width: 1, height: 1, colourType: .rgb, samples: [1, 2, 3]).encoded()
        #expect(try ImageFile.decode(png, name: "photo.jpg").pixels == [1, 2, 3])
    }

    @Test("readGrey returns grey levels on the 0…1 scale and Rec. 601 luma for colour")
    func readGreyReturnsLuminance() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("mask.png")
        let png = PNGBuilder(width: 3, height: 1, colourType: .rgb,
                             samples: [255, 255, 255, 51, 51, 51, 255, 0, 0]).encoded()
        try FileBytes.writeAtomically(png, to: path, what: "fixture")
        let grey = try ImageFile.readGrey(path: path)
        #expect(grey.width == 3 && grey.height == 1)
        #expect(grey.values[0] == 1)
        #expect(grey.values[1] == Float(51) / 255)
        // Pure red: 0.299, to float rounding.
        #expect(abs(grey.values[2] - 0.299) < 1e-6)
    }
}
