import Foundation
import Testing
import TestSupport
@testable import Engine

#if canImport(Glibc)
import Glibc
#endif

@Suite("Writing PNG files row by row")
struct PNGRowWriterTests {
    /// Writes `image` row by row to `path` and finishes.
    static func write(_ image: RGBImage, to path: String, bitDepth: Int) throws {
        let writer = try PNGRowWriter(path: path, width: image.width, height: image.height, bitDepth: bitDepth)
        for y in 0..<image.height {
            try writer.write(row: Array(image.pixels[y * image.width * 3..<(y + 1) * image.width * 3]))
        }
        try writer.finish()
    }

    @Test("8-bit rows of whole levels read back exactly")
    func eightBitIsExact() throws {
        let directory = try TemporaryDirectory()
        let image = randomImage(width: 37, height: 23, wholeLevels: true, seed: 11)
        try Self.write(image, to: directory.path("out.png"), bitDepth: 8)
        #expect(try ImageFile.read(path: directory.path("out.png")) == image)
    }

    // Each sample is stored as round(value × 257) and read back as level / 257: compare with
    // exactly that, not with a tolerance.
    @Test("16-bit rows read back as exactly their 16-bit levels")
    func sixteenBitIsExact() throws {
        let directory = try TemporaryDirectory()
        let image = randomImage(width: 41, height: 19, wholeLevels: false, seed: 12)
        try Self.write(image, to: directory.path("out.png"), bitDepth: 16)
        let expected = image.pixels.map { PNGEncoder.quantise($0, scale: 257, max: 65535) / 257 }
        #expect(try ImageFile.read(path: directory.path("out.png")).pixels == expected)
    }

    @Test("the file has the same chunks and pixels as ImageFile.writePNG's", arguments: [8, 16])
    func matchesTheWholeImageWriter(bitDepth: Int) throws {
        let directory = try TemporaryDirectory()
        let image = RGBImage(width: 5, height: 3, pixels: (0..<45).map { Float($0 * 6) - 10.4 })
        try Self.write(image, to: directory.path("rows.png"), bitDepth: bitDepth)
        try ImageFile.writePNG(image, path: directory.path("whole.png"), bitDepth: bitDepth)
        let rows = try FileBytes.read(path: directory.path("rows.png"), what: "rows")
        let whole = try FileBytes.read(path: directory.path("whole.png"), what: "whole")
        #expect(PNGChunks.chunks(of: rows).map(\.type).filter { $0 != "IDAT" }
                == PNGChunks.chunks(of: whole).map(\.type).filter { $0 != "IDAT" })
        #expect(try ImageFile.decode(rows, name: "rows") == ImageFile.decode(whole, name: "whole"))
    }

    @Test("nothing appears at the path until finish, and an abandoned writer leaves no file")
    func fileAppearsOnlyWhenFinished() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.png")
        do {
            let writer = try PNGRowWriter(path: path, width: 4, height: 2)
            try writer.write(row: [Float](repeating: 9, count: 12))
            #expect(!FileManager.default.fileExists(atPath: path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }

    @Test("a path in a missing directory is an I/O error naming it, before any row")
    func impossiblePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("no/such/dir/out.png")
        let error = expectEngineError(.io) { _ = try PNGRowWriter(path: path, width: 8, height: 8) }
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("check that the directory exists") == true)
        #expect(error?.cause == "No such file or directory")
    }

    @Test("a full disk is an I/O error as soon as the header is written, not a crash")
    func fullDiskIsAnError() throws {
        let fd = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(fd >= 0, "/dev/full is needed for this test")
        let error = expectEngineError(.io) {
            _ = try PNGRowWriter(file: AtomicFileWriter(descriptor: fd, what: "image 'full.png'"), path: "full.png",
                                 width: 16, height: 16, bitDepth: 8, compressionLevel: 6)
        }
        #expect(error?.message.contains("full.png") == true)
        #expect(error?.cause == "No space left on device")
    }

    @Test("a write that fails part-way is an I/O error from the row that hit it, and the writer stays failed")
    func failureMidImageIsAnError() throws {
        // A pipe nobody reads, non-blocking: the header fits in its 64 KB buffer, then a row
        // finds it full and write(2) fails with EAGAIN, which the writer treats as an error.
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        try #require(fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK) == 0)
        let writer = try PNGRowWriter(file: AtomicFileWriter(descriptor: ends[1], what: "image 'pipe.png'"), path: "pipe.png",
                                      width: 256, height: 256, bitDepth: 16, compressionLevel: 0)
        let row = randomImage(width: 256, height: 1, wholeLevels: false, seed: 1).pixels
        var error: EngineError?
        do {
            for _ in 0..<256 { try writer.write(row: row) }
            try writer.finish()
        } catch let caught {
            error = caught
        }
        #expect(error?.code == .io && error?.message.contains("pipe.png") == true)
        #expect(error?.cause == "Resource temporarily unavailable")
        #expect(writer.rowsWritten > 0 && writer.rowsWritten < 256)
        let again = expectEngineError(.io) { try writer.write(row: row) }
        #expect(again == error)
        expectEngineError(.io) { try writer.finish() }
    }

    @Test("wrong row lengths, extra rows and an early finish are refused; the writer carries on")
    func misuseIsRefused() throws {
        let directory = try TemporaryDirectory()
        let writer = try PNGRowWriter(path: directory.path("out.png"), width: 3, height: 2)
        let length = expectEngineError(.invalidArgument) { try writer.write(row: [1, 2, 3]) }
        #expect(length?.message.contains("needs 9 samples") == true)
        try writer.write(row: [Float](repeating: 1, count: 9))
        let early = expectEngineError(.invalidArgument) { try writer.finish() }
        #expect(early?.message.contains("1 of its 2 rows") == true)
        try writer.write(row: [Float](repeating: 2, count: 9))
        expectEngineError(.invalidArgument) { try writer.write(row: [Float](repeating: 3, count: 9)) }
        try writer.finish()
        #expect(try ImageFile.read(path: directory.path("out.png")).pixels == [Float](repeating: 1, count: 9) + [Float](repeating: 2, count: 9))
    }

    @Test("bad sizes, bit depths and compression levels are refused before a file is made",
          arguments: [(0, 5, 8, 6), (5, 1_000_001, 8, 6), (5, 5, 12, 6), (5, 5, 8, 10), (5, 5, 16, -1)])
    func badParameters(width: Int, height: Int, bitDepth: Int, level: Int) throws {
        let directory = try TemporaryDirectory()
        expectEngineError(.invalidArgument) {
            _ = try PNGRowWriter(path: directory.path("out.png"), width: width, height: height,
                                 bitDepth: bitDepth, compressionLevel: level)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }

    // Flat memory: the writer holds one row of bytes plus libpng's and zlib's working memory,
    // counted exactly through the allocator callbacks. Writing 32 times as many rows of a
    // 4096-wide image must not raise that peak at all, and the peak (under 1 MB) is far below
    // the 4096 × 2048 × 6 = 48 MB the image would take; the file grows on disk as rows go in
    // (stored uncompressed, level 0, so that its size says how much has left the process).
    @Test("memory stays flat however many rows are written: rows go to the file, not into the writer")
    func memoryStaysFlat() throws {
        let directory = try TemporaryDirectory()
        let width = 4096, height = 2048
        let writer = try PNGRowWriter(path: directory.path("tall.png"), width: width, height: height,
                                      bitDepth: 16, compressionLevel: 0)
        let row = randomImage(width: width, height: 1, wholeLevels: true, seed: 3).pixels
        func partialFileSize() throws -> Int {
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).first)
            return try FileManager.default.attributesOfItem(atPath: directory.path(name))[.size] as? Int ?? 0
        }
        for _ in 0..<64 { try writer.write(row: row) }
        let peakAfter64 = writer.peakLibraryBytes
        let sizeAfter64 = try partialFileSize()
        for _ in 64..<height { try writer.write(row: row) }
        #expect(writer.peakLibraryBytes == peakAfter64)
        #expect(peakAfter64 < 1_000_000, "libpng and zlib peaked at \(peakAfter64) bytes")
        #expect(try partialFileSize() > sizeAfter64 + (height - 64 - 8) * width * 6)
        try writer.finish()
        #expect(writer.lastWarning == nil)
    }
}
