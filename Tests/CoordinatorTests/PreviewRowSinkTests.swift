import Foundation
import Testing
import TestSupport
@testable import Coordinator
import Engine

struct PreviewRowSinkTests {
    func feed(_ image: RGBImage, to sink: PreviewRowSink) throws {
        try image.pixels.withUnsafeBufferPointer { pixels in
            for y in 0..<image.height {
                try sink.write(row: UnsafeBufferPointer(rebasing: pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)]))
            }
        }
    }

    @Test func eachPreviewPixelIsTheMeanOfTheBlockItCovers() throws {
        // 8×4 into a longest side of 4: 2×2 blocks. Pixel value = 10·x + y in every channel.
        let source = RGBImage(width: 8, height: 4, pixels: (0..<4).flatMap { y in (0..<8).flatMap { x in [Float](repeating: Float(10 * x + y), count: 3) } })
        let sink = PreviewRowSink(sourceWidth: 8, sourceHeight: 4, longestSide: 4)
        try feed(source, to: sink)
        #expect(sink.isComplete)
        #expect(sink.preview.width == 4 && sink.preview.height == 2)
        // Block (bx, by) holds x ∈ {2bx, 2bx+1}, y ∈ {2by, 2by+1}: mean 10·(2bx + 0.5) + 2by + 0.5. Exact in Float.
        for by in 0..<2 {
            for bx in 0..<4 {
                let expected = Float(10 * (2 * bx) + 5 + 2 * by) + 0.5
                #expect(sink.preview.pixels[(by * 4 + bx) * 3] == expected, "block \(bx), \(by)")
            }
        }
    }

    @Test func aSmallImageIsItsOwnPreviewAndAWrongRowIsRefused() throws {
        let sink = PreviewRowSink(sourceWidth: 30, sourceHeight: 20, longestSide: 1600)
        let pattern = SampleImages.pattern(width: 30, height: 20, seed: 1)
        try feed(pattern, to: sink)
        #expect(sink.preview.pixels == pattern.pixels)
        #expect(throws: EngineError.self) { try [Float](repeating: 0, count: 90).withUnsafeBufferPointer { try sink.write(row: $0) } }
    }

    @Test func stitchingALargeOutputWritesAPreviewBesideIt() throws {
        // A 1700×40 output concatenated from one exact-mode band: a preview 1600 wide.
        let folder = try TemporaryDirectory()
        let band = SampleImages.pattern(width: 1700, height: 40, seed: 2)
        try ImageFile.writePNG(band, path: folder.path("band.png"))
        let plan = StitchPlan(width: 1700, height: 40, tile: 64, halo: 0, bitDepth: 8, bands: ["shard-1"])
        _ = try TileStitching.stitch(plan, tiles: ["shard-1": folder.path("band.png")], to: folder.path("output.png"))
        let preview = try ImageFile.read(path: folder.path(TileStitching.previewName))
        #expect(preview.width == 1600 && preview.height == 38)
        // A small output has none (and a stale one goes).
        let tiny = SampleImages.pattern(width: 100, height: 40, seed: 2)
        try ImageFile.writePNG(tiny, path: folder.path("tiny.png"))
        _ = try TileStitching.stitch(StitchPlan(width: 100, height: 40, tile: 64, halo: 0, bitDepth: 8, bands: ["shard-1"]),
                                     tiles: ["shard-1": folder.path("tiny.png")], to: folder.path("output.png"))
        #expect(!FileManager.default.fileExists(atPath: folder.path(TileStitching.previewName)))
    }
}
