import Foundation
import Testing
import TestSupport
@testable import Engine

/// The pieces a worker uses for a tiled job's tasks, without the network.
struct ResizeWindowTests {
    @Test(arguments: [ResampleFilter.lanczos3, .bilinear, .area])
    func aWindowOfAResizeIsTheSameAsCroppingTheWholeResize(filter: ResampleFilter) throws {
        let image = SampleImages.pattern(width: 37, height: 29, seed: 4)
        for (width, height) in [(150, 110), (20, 16), (37, 60), (37, 29)] {
            let whole = Resampler.resize(image, width: width, height: height, filter: filter)
            for window in [PixelRect(x: 0, y: 0, width: width, height: height), PixelRect(x: 3, y: 5, width: width / 2, height: height / 3),
                           PixelRect(x: width - 7, y: height - 4, width: 7, height: 4)] {
                let part = try Resampler.resize(image, width: width, height: height, window: window, filter: filter)
                #expect(part == (try whole.cropped(to: window)), "\(filter) to \(width)×\(height), window \(window)")
            }
        }
    }

    @Test func aWindowOutsideTheOutputIsRefused() {
        let image = SampleImages.pattern(width: 8, height: 8, seed: 1)
        #expect(throws: EngineError.self) {
            try Resampler.resize(image, width: 16, height: 16, window: PixelRect(x: 10, y: 0, width: 8, height: 8))
        }
    }
}

struct StyleTargetsFileTests {
    func sample() throws -> StyleTargetsFile {
        try StyleTargetsFile(styles: [["a": [1, 2, 3, 4], "b": [0.5]], ["a": (0..<9).map(Float.init)]],
                             layerOrder: [["a", "b"], ["a"]])
    }

    @Test func itReadsBackWhatItWrote() throws {
        let file = try sample()
        #expect(try StyleTargetsFile.decode(file.encoded(), name: "t") == file)
    }

    @Test func aTruncatedOrDamagedFileIsRefused() throws {
        let bytes = try sample().encoded()
        for (label, damaged) in [("truncated", Array(bytes.dropLast(3))), ("extra bytes", bytes + [0]),
                                 ("bad magic", [0] + bytes.dropFirst()), ("empty", [])] {
            let error = #expect(throws: EngineError.self, "\(label)") { try StyleTargetsFile.decode(damaged, name: "t.grams") }
            #expect(error?.message.contains("t.grams is corrupt") == true, "\(label): \(error?.message ?? "")")
        }
        var nan = bytes
        nan.replaceSubrange(nan.count - 4..<nan.count, with: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian, Array.init))
        #expect(throws: EngineError.self) { try StyleTargetsFile.decode(nan, name: "t") }
    }

    @Test func aGramThatIsNotSquareIsRefused() {
        #expect(throws: EngineError.self) { try StyleTargetsFile(styles: [["a": [1, 2, 3]]], layerOrder: [["a"]]) }
    }
}

struct ExactExchangeCodecTests {
    @Test func stripsAndSumsReadBackAsWritten() throws {
        let pixels = Tensor(channels: 3, height: 2, width: 5, values: (0..<30).map { Float($0) - 7.5 })
        let strips = [PixelStrip(rect: PixelRect(x: 0, y: 10, width: 5, height: 2), pixels: pixels),
                      PixelStrip(rect: PixelRect(x: 0, y: 40, width: 5, height: 2), pixels: pixels)]
        let back = try ExactExchangeCodec.decodeStrips(ExactExchangeCodec.encode(strips), maxPixels: 100)
        #expect(back.map(\.rect) == strips.map(\.rect))
        #expect(back.map(\.pixels.values) == strips.map(\.pixels.values))
        #expect(throws: EngineError.self) { try ExactExchangeCodec.decodeStrips(ExactExchangeCodec.encode(strips), maxPixels: 15) }
        #expect(throws: EngineError.self) { try ExactExchangeCodec.decodeStrips(Array(ExactExchangeCodec.encode(strips).dropLast()), maxPixels: 100) }

        let sums = ExactPartialSums(grams: ["block1_relu1": [1, 2, 3, 4]], contentSquares: ["block4_relu2": 5], tv: 6)
        #expect(try ExactExchangeCodec.decodeSums(ExactExchangeCodec.encode(sums)) == sums)
        #expect(throws: EngineError.self) { try ExactExchangeCodec.decodeSums(ExactExchangeCodec.encode(ExactPartialSums(tv: .nan))) }
    }
}

struct ImageDifferenceTests {
    @Test func itReportsTheLargestAndMeanStepAndCountsThoseOverTwo() throws {
        let a = RGBImage(width: 2, height: 1, pixels: [0, 10, 20, 30, 40, 50])
        let b = RGBImage(width: 2, height: 1, pixels: [0, 13, 20, 30, 40, 48.5])
        let d = try ImageDifference(a, b)
        #expect(d.maximum == 3 && d.samplesOverTwo == 1 && d.samples == 6)
        #expect(abs(d.mean - 4.5 / 6) < 1e-6)
        #expect(throws: EngineError.self) { try ImageDifference(a, RGBImage(width: 1, height: 2, fill: 0)) }
    }
}
