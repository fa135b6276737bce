import Testing
@testable import Coordinator
import Engine
import TestSupport

struct ContactSheetTests {
    static let colors: [RGBColor] = [
        RGBColor(red: 200, green: 30, blue: 30), RGBColor(red: 30, green: 200, blue: 30),
        RGBColor(red: 30, green: 30, blue: 200), RGBColor(red: 200, green: 200, blue: 30),
        RGBColor(red: 30, green: 200, blue: 200),
    ]

    func solid(_ color: RGBColor, width: Int, height: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height, fill: 0)
        image.fillRect(x: 0, y: 0, width: width, height: height, color)
        return image
    }

    @Test(arguments: [(1, 1, 1), (2, 2, 1), (3, 2, 2), (4, 2, 2), (5, 3, 2), (9, 3, 3), (10, 4, 3)])
    func theGridHasAboutSquareRootOfNColumns(count: Int, columns: Int, rows: Int) throws {
        let layout = try ContactSheet(cellSize: 64, margin: 10).layout(count: count, labelLines: 1)
        #expect(layout.columns == columns && layout.rows == rows)
        #expect(layout.width == 10 + columns * (64 + 10))
        #expect(layout.height == 10 + rows * (64 + layout.labelHeight + 10))
        #expect(layout.labelHeight == BitmapFont.lineHeight + 4)
    }

    @Test func theSheetHasTheLayoutsSizeAndEachCellsCentreComesFromItsImage() throws {
        // Different sizes and aspects: each is scaled to fit its cell, centred.
        let sizes = [(64, 64), (200, 100), (30, 90), (128, 128), (50, 40)]
        let entries = zip(Self.colors, sizes).enumerated().map { index, pair in
            (label: "gamma=0.\(index), beta=1000", image: solid(pair.0, width: pair.1.0, height: pair.1.1))
        }
        let sheet = ContactSheet(cellSize: 96, margin: 8)
        let image = try sheet.render(entries)
        // 96 px cells hold 16 characters a line: each label takes two.
        let layout = try sheet.layout(count: 5, labelLines: 2)
        #expect(image.width == layout.width && image.height == layout.height)
        #expect(layout.columns == 3 && layout.rows == 2)
        for index in 0..<5 {
            let origin = layout.cellOrigin(index, margin: 8)
            let centre = try #require(image.color(atX: origin.x + 48, y: origin.y + 48))
            // Lanczos of a constant image is that constant up to Float rounding of the weights.
            #expect(abs(centre.red - Self.colors[index].red) < 0.5, "cell \(index)")
            #expect(abs(centre.green - Self.colors[index].green) < 0.5, "cell \(index)")
            #expect(abs(centre.blue - Self.colors[index].blue) < 0.5, "cell \(index)")
        }
        // White background in the margins, and ink (the label) under the first image.
        #expect(image.color(atX: 2, y: 2) == .white)
        let labelRow = layout.cellOrigin(0, margin: 8).y + 96 + 4
        let labelInk = (0..<layout.width).contains { x in (labelRow..<labelRow + 8).contains { image.color(atX: x, y: $0) == .black } }
        #expect(labelInk)
    }

    @Test func aWideImageKeepsItsAspectInsideItsCell() throws {
        let sheet = ContactSheet(cellSize: 100, margin: 0)
        let image = try sheet.render([(label: "", image: solid(Self.colors[0], width: 200, height: 50))])
        // 200×50 becomes 100×25, centred: rows above and below it stay white.
        #expect(image.color(atX: 50, y: 10) == .white)
        #expect(abs((image.color(atX: 50, y: 50)?.red ?? 0) - 200) < 0.5)
    }

    @Test func realImagesAreScaledDownWithLanczos() throws {
        let pattern = SampleImages.pattern(width: 300, height: 200, seed: 3)
        let image = try ContactSheet(cellSize: 64, margin: 4).render([(label: "a", image: pattern), (label: "b", image: pattern)])
        let expected = Resampler.resize(pattern, width: 64, height: 43, filter: .lanczos3)
        // Cell 0's image is pasted unchanged at its offset: (64 − 43) / 2 = 10 rows down.
        #expect(image.color(atX: 4 + 20, y: 4 + 10 + 20) == expected.color(atX: 20, y: 20))
    }

    @Test func longLabelsWrapAndAreCutAfterTheLineLimit() {
        let sheet = ContactSheet(cellSize: 64, maximumLabelLines: 2)   // 10 characters a line
        #expect(sheet.wrap("gamma=0.3, beta=1000", width: 64) == ["gamma=0.3,", "beta=1000"])
        #expect(sheet.wrap("a b c d e f g h i j k l m n o p", width: 64) == ["a b c d e", "f g h i .."])
        #expect(sheet.wrap("averyveryverylongword", width: 64) == ["averyveryv", "erylongw.."])
    }

    @Test func aHugeSweepShrinksItsCellsToStayUnderThePixelLimit() throws {
        let sheet = ContactSheet(cellSize: 256, maximumPixels: 4_000_000)
        let layout = try sheet.layout(count: 400, labelLines: 1)
        #expect(layout.width * layout.height <= 4_000_000)
        #expect(layout.cellSize < 256 && layout.cellSize >= ContactSheet.minimumCellSize)
    }

    @Test func badArgumentsAreErrorsNotTraps() {
        #expect(throws: EngineError.self) { try ContactSheet().render([]) }
        #expect(throws: EngineError.self) { try ContactSheet(cellSize: 4).layout(count: 1, labelLines: 0) }
        #expect(throws: EngineError.self) { try ContactSheet(cellSize: .max).layout(count: 1, labelLines: 0) }
        #expect(throws: EngineError.self) { try ContactSheet(margin: .max).layout(count: 1, labelLines: 0) }
        #expect(throws: EngineError.self) { try ContactSheet(labelScale: 0).layout(count: 1, labelLines: 0) }
        #expect(throws: EngineError.self) { try ContactSheet().layout(count: 1, labelLines: .max) }
        #expect(throws: EngineError.self) { try ContactSheet(columns: 0).layout(count: 1, labelLines: 0) }
        #expect(throws: EngineError.self) { try ContactSheet(maximumPixels: 100).layout(count: 100, labelLines: 1) }
    }

    @Test func aPointsLabelNamesItsParameters() {
        let parameters = [PlannedTask.Parameter(name: "gamma", value: 0.3), PlannedTask.Parameter(name: "beta", value: 1000)]
        #expect(ContactSheet.label(for: parameters) == "gamma=0.3, beta=1000")
    }
}
