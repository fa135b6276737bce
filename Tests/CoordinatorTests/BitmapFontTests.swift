import Testing
@testable import Coordinator
import Engine

struct BitmapFontTests {
    /// Positions of ink on a white canvas after drawing `text` at (0, 0).
    func ink(_ text: String, scale: Int = 1) -> (image: RGBImage, inked: Set<[Int]>) {
        var image = RGBImage(width: 40, height: 20, fill: 255)
        BitmapFont.drawText(text, into: &image, x: 0, y: 0, scale: scale, color: .black)
        var inked: Set<[Int]> = []
        for y in 0..<image.height {
            for x in 0..<image.width where image.color(atX: x, y: y) == .black { inked.insert([x, y]) }
        }
        return (image, inked)
    }

    @Test func theDigitOneIsAVerticalStrokeInItsMiddleColumn() {
        let inked = ink("1").inked
        for row in 0..<7 { #expect(inked.contains([2, row]), "row \(row)") }
        #expect(!inked.contains([0, 3]) && !inked.contains([4, 3]))
    }

    @Test func aScaledGlyphInksWholeBlocks() {
        let inked = ink("1", scale: 2).inked
        for row in 0..<14 { #expect(inked.contains([4, row]) && inked.contains([5, row]), "row \(row)") }
        #expect(inked.count == ink("1").inked.count * 4)
    }

    @Test func aSpaceDrawsNothingAndTheNextCharacterStartsOneAdvanceLater() {
        let one = ink("1").inked
        let shifted = ink(" 1").inked
        #expect(shifted == Set(one.map { [$0[0] + BitmapFont.advance, $0[1]] }))
    }

    @Test(arguments: ["", "a", "gamma=0.3, beta=1000", "γσ%"])
    func textWidthIsCharactersTimesAdvance(text: String) {
        #expect(BitmapFont.textWidth(text) == text.count * BitmapFont.advance)
        #expect(BitmapFont.textWidth(text, scale: 3) == text.count * BitmapFont.advance * 3)
    }

    @Test func everyPromisedCharacterHasAGlyphOfFiveColumnsAndAtMostEightRows() {
        let promised = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,:=-_+()/%γσ"
        for character in promised { #expect(BitmapFont.hasGlyph(character), "\(character)") }
        for (character, rows) in BitmapFont.patterns {
            #expect(rows.count <= BitmapFont.glyphHeight, "\(character)")
            #expect(rows.allSatisfy { $0.count == BitmapFont.glyphWidth }, "\(character)")
        }
        // Every visible glyph has ink; no two glyphs look the same (the minus sign is an alias).
        let shapes = BitmapFont.glyphs.filter { $0.key != " " }.map(\.value)
        #expect(shapes.allSatisfy { $0.contains { $0 != 0 } })
        #expect(Set(shapes).count == shapes.count)
    }

    @Test func anUnknownCharacterDrawsAsABox() {
        #expect(!BitmapFont.hasGlyph("€"))
        let inked = ink("€").inked
        // The outline of the 5×7 cell: 2 × 5 + 2 × 7 − 4 corners = 20 pixels, centre empty.
        #expect(inked.count == 20)
        #expect(inked.contains([0, 0]) && inked.contains([4, 6]) && !inked.contains([2, 3]))
    }

    @Test func textOffTheImageIsClippedNotATrap() {
        var image = RGBImage(width: 8, height: 8, fill: 255)
        BitmapFont.drawText("γ* = 0.45", into: &image, x: -10, y: 5, scale: 3, color: .black)
        BitmapFont.drawText("x", into: &image, x: Int.max - 2, y: Int.min + 2, color: .black)
        #expect(image.width == 8)
    }
}
