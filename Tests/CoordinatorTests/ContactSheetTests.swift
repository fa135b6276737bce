import Testing
@testable import Coordinator
import Engine
import TestSupport

struct ContactSheetTests {
    static let colors: [[Float]] = [[200, 30, 30], [30, 200, 30], [30, 30, 200], [200, 200, 30], [30, 200, 200]]

    func solid(_ color: [Float], width: Int, height: Int) -> RGBImage {
        RGBImage(width: width, height: height, pixels: (0..<(width * height)).flatMap { _ in color })
    }

    func pixel(_ image: RGBImage, x: Int, y: Int) -> [Float] {
        let i = (y * image.width + x) * 3
        return Array(image.pixels[i..<(i + 3)])
    }

    @Test(arguments: [(1, 1, 1), (2, 2, 1), (3, 2, 2), (4, 2, 2), (5, 3, 2), (9, 3, 3), (10, 4, 3)])
    func theGridHasAboutSquareRootOfNColumns(count: Int, columns: Int, rows: Int) throws {
        let layout = try ContactSheet(cellSize: 64, margin: 10).layout(count: count)
        #expect(layout.columns == columns && layout.rows == rows)
        #expect(layout.width == 10 + columns * (64 + 10))
        #expect(layout.height == 10 + rows * (64 + 10), "no room for labels: the page has them")
    }

    @Test func theSheetHasTheLayoutsSizeAndEachCellsCentreComesFromItsImage() throws {
        // Different sizes and aspects: each is scaled to fit its cell, centred.
        let sizes = [(64, 64), (200, 100), (30, 90), (128, 128), (50, 40)]
        let images = zip(Self.colors, sizes).map { solid($0.0, width: $0.1.0, height: $0.1.1) }
        let sheet = ContactSheet(cellSize: 96, margin: 8)
        let image = try sheet.render(images)
        let layout = try sheet.layout(count: 5)
        #expect(image.width == layout.width && image.height == layout.height)
        #expect(layout.columns == 3 && layout.rows == 2)
        for index in 0..<5 {
            let origin = layout.cellOrigin(index, margin: 8)
            // Lanczos of a constant image is that constant up to Float rounding of the weights.
            let centre = pixel(image, x: origin.x + 48, y: origin.y + 48)
            #expect(zip(centre, Self.colors[index]).allSatisfy { abs($0 - $1) < 0.5 }, "cell \(index): \(centre)")
        }
        #expect(pixel(image, x: 2, y: 2) == [255, 255, 255], "white margins")
        // Under the first cell, where labels used to be drawn, is margin: white.
        let below = layout.cellOrigin(0, margin: 8).y + 96 + 2
        #expect((0..<layout.width).allSatisfy { pixel(image, x: $0, y: below) == [255, 255, 255] })
    }

    @Test func aWideImageKeepsItsAspectInsideItsCell() throws {
        let image = try ContactSheet(cellSize: 100, margin: 0).render([solid(Self.colors[0], width: 200, height: 50)])
        // 200×50 becomes 100×25, centred: rows above and below it stay white.
        #expect(pixel(image, x: 50, y: 10) == [255, 255, 255])
        #expect(abs(pixel(image, x: 50, y: 50)[0] - 200) < 0.5)
    }

    @Test func realImagesAreScaledDownWithLanczos() throws {
        let pattern = SampleImages.pattern(width: 300, height: 200, seed: 3)
        let image = try ContactSheet(cellSize: 64, margin: 4).render([pattern, pattern])
        let expected = Resampler.resize(pattern, width: 64, height: 43, filter: .lanczos3)
        // Cell 0's image is pasted unchanged at its offset: (64 − 43) / 2 = 10 rows down.
        #expect(pixel(image, x: 4 + 20, y: 4 + 10 + 20) == pixel(expected, x: 20, y: 20))
    }

    @Test func aHugeSweepShrinksItsCellsToStayUnderThePixelLimit() throws {
        let layout = try ContactSheet(cellSize: 256, maximumPixels: 4_000_000).layout(count: 400)
        #expect(layout.width * layout.height <= 4_000_000)
        #expect(layout.cellSize < 256 && layout.cellSize >= ContactSheet.minimumCellSize)
    }

    @Test func badArgumentsAreErrorsNotTraps() {
        #expect(throws: EngineError.self) { try ContactSheet().render([]) }
        #expect(throws: EngineError.self) { try ContactSheet(cellSize: 4).layout(count: 1) }
        #expect(throws: EngineError.self) { try ContactSheet(cellSize: .max).layout(count: 1) }
        #expect(throws: EngineError.self) { try ContactSheet(margin: .max).layout(count: 1) }
        #expect(throws: EngineError.self) { try ContactSheet(columns: 0).layout(count: 1) }
        #expect(throws: EngineError.self) { try ContactSheet(maximumPixels: 100).layout(count: 100) }
    }
}
