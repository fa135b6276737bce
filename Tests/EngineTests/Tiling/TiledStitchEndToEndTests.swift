import Testing
import TestSupport
@testable import Engine

/// TileGrid → windows with halo → BandStitcher → PNGRowWriter → ImageFile.read → SeamScore:
/// the image side of a tiled render, without the rendering.
@Suite("Cutting, stitching and writing a tiled image end to end")
struct TiledStitchEndToEndTests {
    /// Stitches `windows` (in a shuffled order) through a PNGRowWriter and reads the file back.
    static func stitchToPNG(
        _ windows: [(TilePosition, RGBImage)], grid: TileGrid, blend: TileBlend, in directory: TemporaryDirectory
    ) throws -> RGBImage {
        let path = directory.path("stitched-\(blend.rawValue).png")
        let writer = try PNGRowWriter(path: path, width: grid.width, height: grid.height)
        let stitcher = try BandStitcher(grid: grid, blend: blend, sink: writer)
        var generator = SeededRandom(seed: 21)
        for i in windows.indices.shuffled(using: &generator) {
            try stitcher.add(windows[i].1, at: windows[i].0)
        }
        try stitcher.finish()
        try writer.finish()
        return try ImageFile.read(path: path)
    }

    @Test("unchanged windows stitch back into exactly the input image", arguments: TileGrid.Layout.allCases)
    func unchangedWindowsRoundTrip(layout: TileGrid.Layout) throws {
        let directory = try TemporaryDirectory()
        let image = texturedImage(width: 333, height: 250, seed: 17)
        let grid = try TileGrid(width: 333, height: 250, tileSize: 64, halo: 16, alignment: 16, layout: layout)
        let output = try Self.stitchToPNG(tileWindows(of: image, grid: grid), grid: grid, blend: .raisedCosine, in: directory)
        #expect(output == image)
    }

    // Alternate tiles rendered 10 levels brighter (a tile that drifted): hard cuts put the
    // whole step on the border; feathering spreads it over the 2 × 16-pixel overlap, so the
    // 4-line bands either side of the border differ by far less. The reference lines (16 and
    // 24 pixels from the border with T = 64) lie outside the 16-pixel overlap half, so they
    // still see only texture.
    @Test("an offset on alternate tiles raises the seam score, and feathering lowers it below hard cuts")
    func featheringHidesOffsets() throws {
        let directory = try TemporaryDirectory()
        let image = texturedImage(width: 512, height: 384, seed: 23, noise: 6)
        let grid = try TileGrid(width: 512, height: 384, tileSize: 64, halo: 16)
        let windows = try tileWindows(of: image, grid: grid) { position, value in
            (position.row + position.column) % 2 == 1 ? value + 10 : value
        }
        let clean = try SeamScore.measure(
            Self.stitchToPNG(tileWindows(of: image, grid: grid), grid: grid, blend: .raisedCosine, in: directory),
            tileSize: 64).score
        let hard = try SeamScore.measure(Self.stitchToPNG(windows, grid: grid, blend: .hardCut, in: directory), tileSize: 64).score
        let feathered = try SeamScore.measure(
            Self.stitchToPNG(windows, grid: grid, blend: .raisedCosine, in: directory), tileSize: 64).score
        #expect(abs(clean - 1) < 0.03, "clean \(clean)")  // as for seamless textures in SeamScoreTests
        #expect(hard > 1.15, "hard cuts: \(hard)")
        #expect(feathered < hard, "feathered \(feathered), hard cuts \(hard)")
        #expect(feathered - clean < (hard - clean) / 2, "clean \(clean), feathered \(feathered), hard cuts \(hard)")
    }
}
