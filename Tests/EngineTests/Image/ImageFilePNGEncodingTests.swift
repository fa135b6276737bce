import Testing
import TestSupport
@testable import Engine

#if canImport(Glibc)
import Glibc
#endif
import Foundation

@Suite("Encoding and writing PNG images")
struct ImageFilePNGEncodingTests {
    @Test("an 8-bit PNG round trip of whole levels is exact")
    func eightBitRoundTripIsExact() throws {
        let image = randomImage(width: 37, height: 23, wholeLevels: true, seed: 1)
        let decoded = try ImageFile.decode(ImageFile.encodePNG(image), name: "out.png")
        #expect(decoded == image)
    }

    // Writing rounds value × 257 to the nearest 16-bit level, an error of at most half a level
    // (0.5/257 on the 0…255 scale); reading divides by 257 exactly. So every sample is back
    // within 1/257, with room for float rounding.
    @Test("a 16-bit PNG round trip is within 1/257 of a level")
    func sixteenBitRoundTripIsClose() throws {
        let image = randomImage(width: 41, height: 19, wholeLevels: false, seed: 2)
        let decoded = try ImageFile.decode(ImageFile.encodePNG(image, bitDepth: 16), name: "out.png")
        #expect(decoded.width == image.width && decoded.height == image.height)
        #expect(maxDifference(decoded.pixels, image.pixels) <= 1.0 / 257)
    }

    @Test("a 16-bit PNG stores value × 257 and carries no gamma chunk that would mislabel it")
    func sixteenBitIsUntaggedSRGB() throws {
        let image = RGBImage(width: 1, height: 1, pixels: [1, 128, 255])
        let png = try ImageFile.encodePNG(image, bitDepth: 16)
        let types = PNGChunks.chunks(of: png).map(\.type)
        #expect(!types.contains("gAMA") && !types.contains("cHRM"))
        #expect(types.first == "IHDR" && types.last == "IEND")
        #expect(try ImageFile.decode(png, name: "x.png").pixels == [257.0 / 257, 32896.0 / 257, 255])
    }

    @Test("samples are rounded and clamped, and NaN is written as 0", arguments: [8, 16])
    func samplesAreRoundedAndClamped(bitDepth: Int) throws {
        let image = RGBImage(width: 5, height: 1, pixels: [-5, 300, .nan, 127.5, 127.4, .infinity, -.infinity, 0.2, 254.6, 0, 0, 0, 0, 0, 0])
        let decoded = try ImageFile.decode(ImageFile.encodePNG(image, bitDepth: bitDepth), name: "x.png")
        let expected: [Float] = bitDepth == 8
            ? [0, 255, 0, 128, 127, 255, 0, 0, 255, 0, 0, 0, 0, 0, 0]
            : [0, 255, 0, 127.5, 127.4, 255, 0, 0.2, 254.6, 0, 0, 0, 0, 0, 0]
        // 8-bit: exact whole levels. 16-bit: within a 16-bit level, as in the round trip.
        #expect(maxDifference(decoded.pixels, expected) <= (bitDepth == 8 ? 0 : 1.0 / 257))
    }

    @Test("a bit depth other than 8 or 16 is an invalid argument")
    func otherBitDepthIsRefused() {
        expectEngineError(.invalidArgument) { _ = try ImageFile.encodePNG(RGBImage(width: 1, height: 1), bitDepth: 12) }
    }

    @Test("writePNG replaces the file whole and leaves no temporary file behind")
    func writeIsAtomic() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.png")
        try ImageFile.writePNG(RGBImage(width: 4, height: 4, fill: 10), path: path)
        let replacement = randomImage(width: 9, height: 7, wholeLevels: true, seed: 3)
        try ImageFile.writePNG(replacement, path: path)
        #expect(try ImageFile.read(path: path) == replacement)
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(entries == ["out.png"])
    }

    @Test("writePNG into a missing directory is an I/O error naming the path")
    func writeIntoMissingDirectory() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("no/such/dir/out.png")
        let error = expectEngineError(.io) { try ImageFile.writePNG(RGBImage(width: 1, height: 1), path: path) }
        #expect(error?.message.contains(path) == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }
}
