import Foundation
import Testing
import TestSupport
@testable import Engine

struct StyleMaskTests {
    @Test func aLayerSeesTheMaskAveragedOverEachPoolingWindow() throws {
        // 5×3 → 2×1 drops the odd last column and row, as 2×2 pooling does.
        let mask = try StyleMask(width: 5, height: 3, values: [
            1, 0, 0.5, 0.5, 1,
            1, 0, 0.5, 0.5, 1,
            0, 0, 0, 0, 0,
        ])
        #expect(try mask.weights(height: 3, width: 5) == mask.values)
        #expect(try mask.weights(height: 1, width: 2) == [0.5, 0.5])
        let error = #expect(throws: EngineError.self) { try mask.weights(height: 2, width: 2) }
        #expect(error?.message.contains("does not pool down to a 2×2 layer") == true)
    }

    @Test(arguments: [
        ([Float](repeating: 0, count: 4), "black everywhere"),
        ([0, 1, 1.5, 1], "in [0, 1]"),
        ([0, 1, .nan, 1], "in [0, 1]"),
        ([0, 1, 1], "needs 4 weights"),
    ])
    func unusableMasksAreRefused(values: [Float], message: String) {
        let error = #expect(throws: EngineError.self) { try StyleMask(width: 2, height: 2, values: values) }
        #expect(error?.message.contains(message) == true, "got: \(error?.message ?? "no error")")
    }

    @Test func aGreyImageIsReadAsWeightsAndResizedToTheRenderedSize() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("mask.png")
        // 4×2, left half white, right half black; written as RGB grey.
        let pixels: [Float] = (0..<8).flatMap { i -> [Float] in let v: Float = i % 4 < 2 ? 255 : 0; return [v, v, v] }
        try ImageFile.writePNG(RGBImage(width: 4, height: 2, pixels: pixels), path: path)
        let mask = try StyleMask.read(path: path, style: 1, width: 8, height: 4, filter: .bilinear, maxPixels: 1000)
        #expect(mask.width == 8 && mask.height == 4)
        #expect(mask.values.allSatisfy { (0...1).contains($0) })
        #expect(mask.values[0] == 1 && mask.values[7] == 0, "white stays 1, black stays 0")
        #expect(mask.values[3] > mask.values[4], "the edge between them is soft but falls left to right")
    }

    @Test func aCorruptOrMissingMaskNamesItsStyle() throws {
        let dir = try TemporaryDirectory()
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: URL(fileURLWithPath: dir.path("broken.png")))
        let corrupt = #expect(throws: EngineError.self) {
            try StyleMask.read(path: dir.path("broken.png"), style: 2, width: 8, height: 8, filter: .bilinear, maxPixels: 1000)
        }
        #expect(corrupt?.message.hasPrefix("style 2's mask image '") == true, "got: \(corrupt?.message ?? "")")
        let missing = #expect(throws: EngineError.self) {
            try StyleMask.read(path: dir.path("absent.png"), style: 1, width: 8, height: 8, filter: .bilinear, maxPixels: 1000)
        }
        #expect(missing?.message.hasPrefix("style 1's mask") == true && missing?.message.contains("absent.png") == true,
                "got: \(missing?.message ?? "")")
        try ImageFile.writePNG(RGBImage(width: 2, height: 2, fill: 0), path: dir.path("black.png"))
        let black = #expect(throws: EngineError.self) {
            try StyleMask.read(path: dir.path("black.png"), style: 1, width: 8, height: 8, filter: .bilinear, maxPixels: 1000)
        }
        #expect(black?.message.contains("black everywhere") == true && black?.message.contains("`none`") == true)
    }
}

/// The guided Gram's normalisation: a masked style is compared on the area it covers.
struct MaskedGramTests {
    static let channels = 4, positions = 12
    static let features = ReferenceKernels.randomValues(channels * positions, seed: 7)

    func masked(_ mask: [Float]) -> [Float] {
        var gram = [Float](repeating: 0, count: Self.channels * Self.channels)
        var scratch = [Float](repeating: 0, count: Self.features.count)
        mask.withUnsafeBufferPointer { m in
            Gram.computeMasked(Self.features, mask: m.baseAddress!, area: Gram.area(of: m.baseAddress!, positions: Self.positions),
                               channels: Self.channels, positions: Self.positions, scratch: &scratch, into: &gram)
        }
        return gram
    }

    @Test func aBinaryMaskGivesTheGramOfTheCoveredPositionsAlone() {
        let covered = [0, 1, 2, 5, 8]
        let mask = (0..<Self.positions).map { covered.contains($0) ? Float(1) : 0 }
        let selected = (0..<Self.channels).flatMap { c in covered.map { Self.features[c * Self.positions + $0] } }
        let expected = Gram.compute(selected, channels: Self.channels, positions: covered.count)
        // float32 sums of 5–12 products: 1e-5 of the largest entry.
        #expect(Golden.relativeMaxError(masked(mask), expected) < 1e-5)
    }

    @Test func aUniformlyGreyMaskIsNotStarved() {
        let full = Gram.compute(Self.features, channels: Self.channels, positions: Self.positions)
        #expect(Golden.relativeMaxError(masked([Float](repeating: 0.3, count: Self.positions)), full) < 1e-5)
    }
}
