import Testing
@testable import Engine

@Suite("Stitching tile windows into rows with feathered blending and a bounded band")
struct BandStitcherTests {
    static let image = texturedImage(width: 203, height: 170, seed: 5)

    /// Stitches `windows` in `order` (indices into it) and returns the stitcher.
    static func stitch(
        _ windows: [(TilePosition, RGBImage)], grid: TileGrid, blend: TileBlend, order: [Int]? = nil
    ) throws -> BandStitcher<CollectingSink> {
        let stitcher = try BandStitcher(grid: grid, blend: blend, sink: CollectingSink(width: grid.width))
        for i in order ?? Array(windows.indices) {
            try stitcher.add(windows[i].1, at: windows[i].0)
        }
        try stitcher.finish()
        return stitcher
    }

    // Where tiles overlap, the result is Σ wᵢ·v / Σ wᵢ of equal values v: exact up to float
    // rounding, a few ulps of 255 (≈ 3e-5); 1e-3 leaves room and is far below a 16-bit level.
    @Test("windows cut from one image stitch back to that image, for every blend and layout",
          arguments: TileBlend.allCases, TileGrid.Layout.allCases)
    func identicalWindowsReproduceTheImage(blend: TileBlend, layout: TileGrid.Layout) throws {
        let grid = try TileGrid(width: 203, height: 170, tileSize: 48, halo: 10, layout: layout)
        let stitcher = try Self.stitch(tileWindows(of: Self.image, grid: grid), grid: grid, blend: blend)
        #expect(stitcher.sink.rows.count == 170)
        #expect(maxDifference(stitcher.sink.image.pixels, Self.image.pixels) <= 1e-3)
    }

    @Test("where only one tile covers a pixel, the output is that tile's sample exactly")
    func singleCoverageIsExact() throws {
        let grid = try TileGrid(width: 203, height: 170, tileSize: 48, halo: 10)
        // Every tile different, so any stray weight would show.
        let windows = try tileWindows(of: Self.image, grid: grid) { position, value in
            value + Float(position.row * 7 + position.column) + 0.123
        }
        let output = try Self.stitch(windows, grid: grid, blend: .raisedCosine).sink.image
        for (position, window) in windows {
            let tile = try grid.tile(at: position)
            // The interior minus the overlap strips (10 px each side of inner borders).
            let x0 = tile.interior.x == 0 ? 0 : tile.interior.x + 10
            let x1 = tile.interior.maxX == grid.width ? grid.width : tile.interior.maxX - 10
            let y0 = tile.interior.y == 0 ? 0 : tile.interior.y + 10
            let y1 = tile.interior.maxY == grid.height ? grid.height : tile.interior.maxY - 10
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let o = (y * grid.width + x) * 3
                    let w = ((y - tile.window.y) * tile.window.width + x - tile.window.x) * 3
                    #expect(output.pixels[o..<o + 3].elementsEqual(window.pixels[w..<w + 3]))
                }
            }
        }
    }

    @Test("across a border the blend ramps smoothly from one tile to the other; a hard cut switches at the border")
    func rampsAcrossABorder() throws {
        let grid = try TileGrid(width: 64, height: 16, tileSize: 32, halo: 8)
        let windows = grid.tiles.map { tile in
            (tile.position, RGBImage(width: tile.window.width, height: tile.window.height, fill: tile.position.column == 0 ? 0 : 160))
        }
        let feathered = try Self.stitch(windows, grid: grid, blend: .raisedCosine).sink.rows[5]
        let red = stride(from: 0, to: 64 * 3, by: 3).map { feathered[$0] }
        #expect(red[0..<24].allSatisfy { $0 == 0 } && red[40..<64].allSatisfy { $0 == 160 })
        #expect(zip(red[24..<40], red[25..<40]).allSatisfy { $0 < $1 })      // strictly rising
        #expect(abs(red[31] + red[32] - 160) < 1e-3)                          // symmetric about the border
        #expect(red[24] < 2 && red[39] > 158)                                 // flat ends (raised cosine)

        let linear = try Self.stitch(windows, grid: grid, blend: .linear).sink.rows[5]
        #expect(abs(linear[24 * 3] - 160 * 0.5 / 16) < 1e-3)                  // first step of a straight ramp

        let hard = try Self.stitch(windows, grid: grid, blend: .hardCut).sink.rows[5]
        #expect(stride(from: 0, to: 64 * 3, by: 3).map { hard[$0] } == [Float](repeating: 0, count: 32) + [Float](repeating: 160, count: 32))
    }

    @Test("the output is bit-for-bit the same whatever order the tiles arrive in")
    func arrivalOrderDoesNotMatter() throws {
        let grid = try TileGrid(width: 203, height: 170, tileSize: 48, halo: 20)
        let windows = try tileWindows(of: Self.image, grid: grid) { position, value in
            value * (1 + 0.01 * Float(position.column)) + Float(position.row)
        }
        let forward = try Self.stitch(windows, grid: grid, blend: .raisedCosine).sink.rows
        let reverse = try Self.stitch(windows, grid: grid, blend: .raisedCosine, order: windows.indices.reversed()).sink.rows
        var generator = SeededRandom(seed: 9)
        let shuffled = try Self.stitch(windows, grid: grid, blend: .raisedCosine,
                                       order: windows.indices.shuffled(using: &generator)).sink.rows
        #expect(forward == reverse)
        #expect(forward == shuffled)
    }

    @Test("rows are written as soon as their tiles are in, and the band never holds more than a window's rows")
    func rowsStreamWithinTheBand() throws {
        let grid = try TileGrid(width: 203, height: 170, tileSize: 48, halo: 10)
        let windows = try tileWindows(of: Self.image, grid: grid)
        let stitcher = try BandStitcher(grid: grid, sink: CollectingSink(width: 203))
        #expect(stitcher.bandRows == 48 + 2 * 10)
        for (position, window) in windows {
            try stitcher.add(window, at: position)
            #expect(stitcher.pendingTiles.isEmpty)
            #expect(stitcher.heldRows <= stitcher.bandRows)
            if position.column == grid.columns - 1, position.row + 1 < grid.rows {
                // A finished tile-row releases every row above the next tile-row's windows.
                #expect(stitcher.rowsWritten == grid.rowEdges[position.row + 1] - 10)
            }
        }
        #expect(stitcher.isComplete && stitcher.peakHeldRows <= stitcher.bandRows)
    }

    @Test("in any arrival order the band stays within its bound; early tiles wait as pending windows")
    func shuffledArrivalStaysBounded() throws {
        let grid = try TileGrid(width: 203, height: 170, tileSize: 32, halo: 16)
        let windows = try tileWindows(of: Self.image, grid: grid)
        var generator = SeededRandom(seed: 4)
        let stitcher = try BandStitcher(grid: grid, sink: CollectingSink(width: 203))
        var sawPending = false
        for i in windows.indices.shuffled(using: &generator) {
            try stitcher.add(windows[i].1, at: windows[i].0)
            sawPending = sawPending || !stitcher.pendingTiles.isEmpty
            #expect(stitcher.heldRows <= stitcher.bandRows)
            #expect(stitcher.sink.rows.count == stitcher.rowsWritten)
        }
        #expect(sawPending && stitcher.pendingTiles.isEmpty && stitcher.isComplete)
        #expect(stitcher.bandRows == 64 && stitcher.peakHeldRows <= 64)
    }

    @Test("a wrong-sized, duplicate, outside or non-finite tile is refused and the stitcher carries on")
    func badTilesAreRefused() throws {
        let grid = try TileGrid(width: 100, height: 50, tileSize: 50, halo: 4)
        let windows = try tileWindows(of: texturedImage(width: 100, height: 50, seed: 1), grid: grid)
        let stitcher = try BandStitcher(grid: grid, sink: CollectingSink(width: 100))
        let sizeError = expectEngineError(.invalidArgument) {
            try stitcher.add(RGBImage(width: 50, height: 50), at: windows[0].0)
        }
        #expect(sizeError?.message.contains("its window is 54×50") == true)
        expectEngineError(.invalidArgument) { try stitcher.add(windows[0].1, at: TilePosition(row: 1, column: 0)) }
        var poisoned = windows[0].1
        poisoned.pixels[7] = .nan
        let nanError = expectEngineError(.invalidArgument) { try stitcher.add(poisoned, at: windows[0].0) }
        #expect(nanError?.message.contains("re-render it") == true)

        try stitcher.add(windows[0].1, at: windows[0].0)
        let duplicate = expectEngineError(.invalidArgument) { try stitcher.add(windows[0].1, at: windows[0].0) }
        #expect(duplicate?.message.contains("already stitched") == true)
        let incomplete = expectEngineError(.invalidArgument) { try stitcher.finish() }
        #expect(incomplete?.message.contains("1 of 2 tiles missing (tile-r0-c1)") == true)
        #expect(stitcher.missingTiles == [TilePosition(row: 0, column: 1)])

        try stitcher.add(windows[1].1, at: windows[1].0)
        try stitcher.finish()
        #expect(stitcher.sink.rows.count == 50)
    }

    @Test("a sink error is rethrown and every later call throws it")
    func sinkErrorsStick() throws {
        let grid = try TileGrid(width: 64, height: 64, tileSize: 32, halo: 4)
        let windows = try tileWindows(of: texturedImage(width: 64, height: 64, seed: 2), grid: grid)
        let stitcher = try BandStitcher(grid: grid, sink: CollectingSink(width: 64, failAfter: 10))
        try stitcher.add(windows[0].1, at: windows[0].0)
        let first = expectEngineError(.io) { try stitcher.add(windows[1].1, at: windows[1].0) }
        #expect(first?.cause == "No space left on device")
        expectEngineError(.io) { try stitcher.add(windows[2].1, at: windows[2].0) }
        expectEngineError(.io) { try stitcher.finish() }
    }

    @Test("a band too large for memory is refused up front")
    func oversizedBandIsRefused() throws {
        let grid = try TileGrid(width: 1_000_000, height: 1000, tileSize: 1000, halo: 100)
        let error = expectEngineError(.invalidArgument) { _ = try BandStitcher(grid: grid, sink: CollectingSink(width: 1)) }
        #expect(error?.message.contains("smaller --tile or --halo") == true)
    }
}
