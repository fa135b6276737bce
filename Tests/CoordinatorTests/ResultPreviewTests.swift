import Foundation
import Testing
import TestSupport
@testable import Coordinator
@testable import Engine

/// Finished results made small for the dashboard.
struct ResultPreviewTests {
    @Test(arguments: [8, 16])
    func aResultPNGBecomesAJPEGFittingTheSide(bitDepth: Int) throws {
        let image = SampleImages.pattern(width: 600, height: 400, seed: 5)
        let png = Data(try ImageFile.encodePNG(image, bitDepth: bitDepth))
        let preview = try ResultPreview.make(png: png, maxSide: 256)
        #expect(preview.mimeType == "image/jpeg" && preview.width == 256 && preview.height == 171)
        let back = try ImageFile.decode([UInt8](preview.bytes), name: "preview", maxPixels: 1 << 20)
        #expect(back.width == 256 && back.height == 171)
        // JPEG at quality 85 of an area-averaged pattern: a mean error of a few levels at most.
        let expected = Resampler.resize(image, width: 256, height: 171, filter: .area)
        let meanError = zip(back.pixels, expected.pixels).map { abs($0 - $1) }.reduce(0, +) / Float(back.pixels.count)
        #expect(meanError < 6, "mean error \(meanError)")
    }

    @Test func aResultOverThePixelLimitOrNotAPNGIsRefused() throws {
        let png = Data(try ImageFile.encodePNG(RGBImage(width: 300, height: 300, fill: 128)))
        let tooLarge = #expect(throws: EngineError.self) { try ResultPreview.make(png: png, maxSide: 256, maxPixels: 10_000) }
        #expect(tooLarge?.code == .imageTooLarge)
        #expect(throws: EngineError.self) { try ResultPreview.make(png: Data("not a png".utf8), maxSide: 256) }
        #expect(throws: EngineError.self) { try ResultPreview.make(png: png, maxSide: 100_000) }
    }

    @Test func theCacheAnswersRepeatsAndDropsTheLeastRecentlyUsedPastItsBytes() throws {
        let cache = ResultPreviewCache(capacityBytes: 250)
        var made = 0
        func preview(_ key: String) throws -> ResultPreview {
            try cache.preview(for: key) {
                made += 1
                return ResultPreview(bytes: Data(count: 100), mimeType: "image/jpeg", width: 1, height: 1)
            }
        }
        _ = try preview("a"); _ = try preview("b"); _ = try preview("a")
        #expect(made == 2 && cache.heldBytes == 200)
        _ = try preview("c")   // over 250: "b", used least recently, goes
        #expect(cache.heldBytes == 200)
        _ = try preview("a")
        #expect(made == 3, "a stayed")
        _ = try preview("b")
        #expect(made == 4, "b was dropped and made again")
    }
}
