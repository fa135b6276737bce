import Testing
@testable import Engine

struct TileWindowLayoutTests {
    /// Every activation of every layer up to the alignment's stride is owned by exactly one tile,
    /// including the ragged last row and column and the rows floor pooling drops.
    @Test(arguments: [(96, 96, 48, 16), (100, 70, 32, 16), (90, 75, 48, 8), (64, 64, 32, 2), (33, 17, 16, 16)])
    func everyActivationIsOwnedByExactlyOneTile(width: Int, height: Int, tile: Int, alignment: Int) throws {
        let layout = try TileWindowLayout(width: width, height: height, tile: tile, halo: 20, alignment: alignment)
        var stride = 1
        while stride <= alignment {
            let size = layout.layerSize(stride: stride)
            var count = [Int](repeating: 0, count: size.height * size.width)
            for t in layout.tiles {
                let owned = layout.ownedPositions(of: t, stride: stride)
                // Owned positions are inside the window's own grid.
                #expect(owned.rows.isEmpty || owned.columns.isEmpty
                        || (owned.rows.upperBound <= t.window.height / stride && owned.columns.upperBound <= t.window.width / stride))
                for r in owned.rows {
                    for c in owned.columns {
                        count[(r + t.window.y / stride) * size.width + c + t.window.x / stride] += 1
                    }
                }
            }
            #expect(count.allSatisfy { $0 == 1 }, "stride \(stride)")
            stride *= 2
        }
    }

    @Test func windowsAreAlignedAndContainTheirInteriorsWithTheHalo() throws {
        let layout = try TileWindowLayout(width: 100, height: 70, tile: 32, halo: 20, alignment: 16)
        #expect(layout.halo == 32 && layout.columns == 4 && layout.rows == 3 && layout.tiles.count == 12)
        #expect(layout.tiles.map(\.interior.pixelCount).reduce(0, +) == 100 * 70)
        for t in layout.tiles {
            #expect(t.window.contains(t.interior))
            #expect(t.window.x % 16 == 0 && t.window.y % 16 == 0)
            #expect(t.window.x == max(0, t.interior.x - 32) && t.window.maxX == min(100, t.interior.maxX + 32))
        }
        #expect(layout.tiles[5].interior == PixelRect(x: 32, y: 32, width: 32, height: 32))
        #expect(layout.tiles[11].interior == PixelRect(x: 96, y: 64, width: 4, height: 6))
    }

    @Test func aTileThatSplitsActivationsIsRefusedWithTheSizesThatWork() throws {
        let error = #expect(throws: EngineError.self) {
            try TileWindowLayout(width: 256, height: 256, tile: 100, layers: ["block5_relu1"], exactGradient: true)
        }
        #expect(error?.message.contains("use 96 or 112") == true, "got: \(error?.description ?? "")")
        let small = #expect(throws: EngineError.self) {
            try TileWindowLayout(width: 256, height: 256, tile: 64, layers: ["block2_relu1"], exactGradient: true, halo: 4)
        }
        #expect(small?.message.contains("--halo 9") == true, "got: \(small?.description ?? "")")
    }

    @Test func cropAndPasteRoundTrip() {
        let values = (0..<(3 * 5 * 7)).map(Float.init)
        let t = Tensor(channels: 3, height: 5, width: 7, values: values)
        let rect = PixelRect(x: 2, y: 1, width: 4, height: 3)
        let crop = t.cropped(to: rect)
        #expect(crop[1, 0, 0] == t[1, 1, 2] && crop[2, 2, 3] == t[2, 3, 5])
        var blank = Tensor(channels: 3, height: 5, width: 7)
        blank.paste(crop, at: rect)
        #expect(blank[0, 3, 5] == t[0, 3, 5] && blank[0, 0, 0] == 0)
    }
}
