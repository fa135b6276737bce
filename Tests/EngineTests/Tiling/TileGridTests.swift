import Foundation
import Testing
@testable import Engine

@Suite("Cutting an image into a grid of tiles with halos")
struct TileGridTests {
    @Test("the fixed layout puts borders at multiples of the tile size and leaves the remainder to the last tile")
    func fixedLayout() throws {
        let grid = try TileGrid(width: 1000, height: 600, tileSize: 256)
        #expect(grid.columnEdges == [0, 256, 512, 768, 1000])
        #expect(grid.rowEdges == [0, 256, 512, 600])
        #expect(grid.columns == 4 && grid.rows == 3 && grid.count == 12)
        let corner = try grid.tile(row: 2, column: 3)
        #expect(corner.interior == PixelRect(x: 768, y: 512, width: 232, height: 88))
    }

    @Test("the balanced layout has as many tiles as fixed, none wider than the tile, all within the alignment of the mean",
          arguments: [1, 8, 16])
    func balancedLayoutSweep(alignment: Int) throws {
        for tileSize in stride(from: alignment, through: 160, by: alignment) {
            for length in [1, 2, 15, 16, 17, 33, 100, 255, 256, 257, 511, 999, 1000, 4097] {
                let fixed = try TileGrid.edges(length: length, tileSize: tileSize, alignment: alignment, layout: .fixed)
                let edges = try TileGrid.edges(length: length, tileSize: tileSize, alignment: alignment, layout: .balanced)
                #expect(edges.count == fixed.count)
                #expect(edges.first == 0 && edges.last == length)
                let sizes = zip(edges.dropFirst(), edges).map { $0 - $1 }
                let mean = Double(length) / Double(sizes.count)
                #expect(sizes.allSatisfy { $0 > 0 && $0 <= tileSize }, "\(length) in \(tileSize): \(edges)")
                #expect(sizes.allSatisfy { abs(Double($0) - mean) < Double(alignment) }, "\(length) in \(tileSize): \(edges)")
                #expect(edges.dropFirst().dropLast().allSatisfy { $0 % alignment == 0 })
            }
        }
    }

    @Test("balanced tiles of 1000 pixels in tiles of 256 are 250 each")
    func balancedExample() throws {
        let grid = try TileGrid(width: 1000, height: 600, tileSize: 256, layout: .balanced)
        #expect(grid.columnEdges == [0, 250, 500, 750, 1000])
        #expect(grid.rowEdges == [0, 200, 400, 600])
    }

    @Test("with an alignment every border between tiles is a multiple of it, in both layouts",
          arguments: TileGrid.Layout.allCases)
    func alignedBorders(layout: TileGrid.Layout) throws {
        let grid = try TileGrid(width: 1111, height: 777, tileSize: 160, halo: 32, alignment: 16, layout: layout)
        for edge in grid.columnEdges.dropFirst().dropLast() + grid.rowEdges.dropFirst().dropLast() {
            #expect(edge % 16 == 0)
        }
        // With a halo that is a multiple of the alignment, windows start on it too.
        for tile in grid.tiles { #expect(tile.window.x % 16 == 0 && tile.window.y % 16 == 0) }
    }

    @Test("a window is the interior grown by the halo on every side, clamped to the image")
    func windowsAreClampedInteriorsPlusHalo() throws {
        let grid = try TileGrid(width: 300, height: 200, tileSize: 100, halo: 16)
        let first = try grid.tile(row: 0, column: 0)
        #expect(first.window == PixelRect(x: 0, y: 0, width: 116, height: 116))
        #expect(first.interiorInWindow == PixelRect(x: 0, y: 0, width: 100, height: 100))
        let middle = try grid.tile(row: 1, column: 1)
        #expect(middle.interior == PixelRect(x: 100, y: 100, width: 100, height: 100))
        #expect(middle.window == PixelRect(x: 84, y: 84, width: 132, height: 116))
        #expect(middle.interiorInWindow == PixelRect(x: 16, y: 16, width: 100, height: 100))
        // A halo larger than the image gives every tile the whole image as its window.
        let huge = try TileGrid(width: 300, height: 200, tileSize: 100, halo: 1000)
        #expect(huge.tiles.allSatisfy { $0.window == PixelRect(x: 0, y: 0, width: 300, height: 200) })
    }

    @Test("the interiors cover every pixel exactly once", arguments: TileGrid.Layout.allCases)
    func interiorsPartitionTheImage(layout: TileGrid.Layout) throws {
        let grid = try TileGrid(width: 97, height: 61, tileSize: 24, halo: 5, alignment: 8, layout: layout)
        var covered = [Int](repeating: 0, count: 97 * 61)
        for tile in grid.tiles {
            #expect(tile.window.contains(tile.interior))
            for y in tile.interior.rows { for x in tile.interior.columns { covered[y * 97 + x] += 1 } }
        }
        #expect(covered.allSatisfy { $0 == 1 })
    }

    @Test("tiles are addressed by position and by a stable key, row-major")
    func keys() throws {
        let grid = try TileGrid(width: 640, height: 480, tileSize: 128)
        let tile = try grid.tile(key: "tile-r3-c4")
        #expect(tile.position == TilePosition(row: 3, column: 4))
        #expect(tile.key == "tile-r3-c4")
        #expect(try grid.tile(row: 3, column: 4) == tile)
        #expect(grid.positions.first?.key == "tile-r0-c0" && grid.positions.last?.key == "tile-r3-c4")
        #expect(grid.positions == grid.positions.sorted())
        for position in grid.positions { #expect(try TilePosition(key: position.key) == position) }
    }

    @Test("a tile position encodes as its key in JSON")
    func positionCodable() throws {
        let data = try JSONEncoder().encode([TilePosition(row: 12, column: 0)])
        #expect(String(decoding: data, as: UTF8.self) == #"["tile-r12-c0"]"#)
        #expect(try JSONDecoder().decode([TilePosition].self, from: data) == [TilePosition(row: 12, column: 0)])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([TilePosition].self, from: Data(#"["r1c2"]"#.utf8)) }
    }

    @Test("malformed tile keys are refused with the expected form",
          arguments: ["", "tile-r1", "tile-r1-c", "r1-c2", "tile-r01-c2", "tile-r1-c02", "tile-r-1-c2", "tile-r+1-c2",
                      "tile-r1-c2x", "tile-r1-c2-", "tile-r1_c2", "TILE-R1-C2", "tile-r１-c2", "tile-r1234567890-c0"])
    func malformedKeys(key: String) {
        let error = expectEngineError(.invalidArgument) { _ = try TilePosition(key: key) }
        #expect(error?.message.contains("tile-r<row>-c<column>") == true)
    }

    @Test("a position outside the grid is an error naming the grid's range")
    func outsideTheGrid() throws {
        let grid = try TileGrid(width: 640, height: 480, tileSize: 128)
        let error = expectEngineError(.invalidArgument) { _ = try grid.tile(key: "tile-r4-c0") }
        #expect(error?.message.contains("tile-r0-c0 … tile-r3-c4") == true)
        expectEngineError(.invalidArgument) { _ = try grid.tile(row: 0, column: -1) }
    }

    @Test("bad grid parameters are refused with a message naming the option",
          arguments: [
              (0, 100, 16, 0, 1, "each side"), (100, 2_000_000, 16, 0, 1, "each side"),
              (100, 100, 0, 0, 1, "--tile"), (100, 100, 16, -1, 1, "--halo"),
              (100, 100, 16, 0, 0, "alignment"), (100, 100, 16, 0, 32, "alignment"),
              (100, 100, 100, 0, 16, "use 96 or 112"), (1_000_000, 1_000_000, 1, 0, 1, "use a larger --tile"),
          ] as [(Int, Int, Int, Int, Int, String)])
    func badParameters(width: Int, height: Int, tile: Int, halo: Int, alignment: Int, phrase: String) {
        let error = expectEngineError(.invalidArgument) {
            _ = try TileGrid(width: width, height: height, tileSize: tile, halo: halo, alignment: alignment)
        }
        #expect(error?.message.contains(phrase) == true, "\(error?.message ?? "")")
    }
}
