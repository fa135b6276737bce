import Testing
import TestSupport
import Foundation
@testable import Engine

@Suite("Refusing bad image files with clear errors")
struct ImageFileBadInputTests {
    static let png = PNGBuilder(width: 16, height: 16, colourType: .rgb,
                                samples: (0..<16 * 16 * 3).map { $0 % 251 }).encoded()

    @Test("an empty file is an invalid image")
    func emptyFile() {
        let error = expectEngineError(.invalidImage) { _ = try ImageFile.decode([], name: "empty.png") }
        #expect(error?.message.contains("'empty.png' is empty") == true)
    }

    @Test("random bytes are unsupported, and the message names PNG and JPEG")
    func randomBytes() {
        var generator = SeededRandom(seed: 7)
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let error = expectEngineError(.unsupportedImage) { _ = try ImageFile.decode(bytes, name: "noise.bin") }
        #expect(error?.message.contains("'noise.bin'") == true)
        #expect(error?.message.contains("PNG and JPEG") == true)
    }

    @Test("a GIF is unsupported and named as a GIF")
    func gifIsUnsupported() {
        let gif = Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]
        let error = expectEngineError(.unsupportedImage) { _ = try ImageFile.decode(gif, name: "cat.gif") }
        #expect(error?.message.contains("GIF") == true)
    }

    // Cuts inside the signature, inside IHDR, between IHDR and IDAT, inside IDAT's header,
    // in the middle of the image data, and just before the end of the image data.
    @Test("a truncated PNG is an invalid image", arguments: [4, 8, 20, 33, 40, 300, 700])
    func truncatedPNG(length: Int) {
        // The image data ends 12 bytes before the end of the file (IEND's length, type, CRC).
        let cut = min(length, Self.png.count - 13)
        let error = expectEngineError(length < 8 ? .unsupportedImage : .invalidImage) {
            _ = try ImageFile.decode(Array(Self.png.prefix(cut)), name: "cut.png")
        }
        #expect(error?.message.contains("'cut.png'") == true)
    }

    @Test("a PNG whose image data is damaged is an invalid image with libpng's reason")
    func damagedPNG() {
        var bytes = Self.png
        bytes[60] ^= 0xFF  // inside IDAT: the chunk CRC no longer matches
        let error = expectEngineError(.invalidImage) { _ = try ImageFile.decode(bytes, name: "bad.png") }
        #expect(error?.cause?.hasPrefix("libpng:") == true)
    }

    @Test("a truncated JPEG is an invalid image", arguments: [3, 20, 200, 0.5, 0.95] as [Double])
    func truncatedJPEG(cut: Double) throws {
        let jpeg = try JPEGFixture.encode(ImageFileJPEGDecodingTests.gradient(), width: 32, height: 24)
        let length = cut < 1 ? Int(Double(jpeg.count) * cut) : Int(cut)
        let error = expectEngineError(.invalidImage) {
            _ = try ImageFile.decode(Array(jpeg.prefix(length)), name: "cut.jpg")
        }
        #expect(error?.message.contains("'cut.jpg' is not a readable JPEG") == true)
    }

    @Test("a PNG header with zero width is an invalid image")
    func zeroSizePNG() {
        let png = PNGBuilder(width: 0, height: 4, colourType: .rgb, samples: []).encoded()
        expectEngineError(.invalidImage) { _ = try ImageFile.decode(png, name: "zero.png") }
    }

    @Test("an image over the pixel limit is refused, naming its size and --max-pixels")
    func overLimitIsRefused() throws {
        let png = PNGBuilder(width: 20, height: 20, colourType: .grey, samples: Array(repeating: 9, count: 400)).encoded()
        let jpeg = try JPEGFixture.encode([UInt8](repeating: 9, count: 400), width: 20, height: 20, layout: .grey)
        for (bytes, name) in [(png, "big.png"), (jpeg, "big.jpg")] {
            let error = expectEngineError(.imageTooLarge) { _ = try ImageFile.decode(bytes, name: name, maxPixels: 100) }
            #expect(error?.message == "image '\(name)' is 20×20 (0.0004 MP); the limit is 0.0001 MP, set --max-pixels to raise it")
            // Exactly at the limit is allowed.
            #expect(try ImageFile.decode(bytes, name: name, maxPixels: 400).pixelCount == 400)
        }
    }

    // The file holds one byte of image data: if the decoder tried to read pixels it would fail
    // as corrupt, so `.imageTooLarge` shows the check ran on the header alone.
    @Test("a 100000×100000 PNG header is refused from the header, before any decoding")
    func hugeHeaderIsRefusedBeforeDecoding() {
        let header = PNGBuilder.claimingSize(width: 100_000, height: 100_000)
        let error = expectEngineError(.imageTooLarge) { _ = try ImageFile.decode(header, name: "bomb.png") }
        #expect(error?.message == "image 'bomb.png' is 100000×100000 (10000.0 MP); the limit is 100 MP, set --max-pixels to raise it")
    }

    @Test("a PNG wider than libpng accepts is still reported as too large, not as corrupt")
    func sizeBeyondLibpngLimitsIsTooLarge() {
        let error = expectEngineError(.imageTooLarge) {
            _ = try ImageFile.decode(PNGBuilder.claimingSize(width: 2_000_000, height: 100_000), name: "wide.png")
        }
        #expect(error?.message.hasPrefix("image 'wide.png' is 2000000×100000 (200000.0 MP)") == true)
    }

    @Test("a header whose width × height overflows is refused, not trapped on")
    func overflowingSizeIsRefused() throws {
        // libpng itself refuses dimensions over 2^31 - 1, so exercise the shared check directly.
        #expect(throws: EngineError.self) {
            _ = try ImageLimits.checkedPixelCount(width: Int.max / 2, height: 3, maxPixels: .max, name: "x")
        }
    }

    @Test("a pixel limit that is not positive is an invalid argument")
    func nonPositiveLimit() {
        expectEngineError(.invalidArgument) { _ = try ImageFile.decode(Self.png, name: "a.png", maxPixels: 0) }
    }

    @Test("a missing file is an I/O error naming the path, with the system's reason")
    func missingFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("nothing-here.png")
        let error = expectEngineError(.io) { _ = try ImageFile.read(path: path) }
        #expect(error?.message.contains(path) == true)
        #expect(error?.cause == "No such file or directory")
    }

    @Test("a file bigger than any image within the limit could be is refused before reading it")
    func oversizedFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("huge.png")
        // 100 pixels allow 800 bytes of pixels plus 64 MB of metadata; write one byte more
        // (a sparse file, so the test costs no disk).
        #expect(FileManager.default.createFile(atPath: path, contents: Data(Self.png)))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(ImageLimits.maxFileBytes(maxPixels: 100) + 1))
        try handle.close()
        let error = expectEngineError(.imageTooLarge) { _ = try ImageFile.read(path: path, maxPixels: 100) }
        #expect(error?.message.contains("--max-pixels") == true)
    }

    @Test("a directory is an I/O error, not an image")
    func directoryIsNotAnImage() throws {
        let directory = try TemporaryDirectory()
        expectEngineError(.io) { _ = try ImageFile.read(path: directory.url.path) }
    }
}
