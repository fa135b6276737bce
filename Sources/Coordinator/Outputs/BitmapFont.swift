public import Engine

/// A built-in 5×7 pixel font with one descender row, for labels on the job's figures (no font
/// files, no libraries). Each glyph sits in a cell `advance` pixels wide (5 + 1 of spacing)
/// and `lineHeight` tall; everything scales by an integer factor. Covers digits, a–z, A–Z,
/// space and `.,:=-_+()/%γσ*'[]|×`; any other character draws as a box, so a missing glyph is
/// visible rather than silently dropped.
public enum BitmapFont {
    public static let glyphWidth = 5
    /// Rows 0…6 hold capitals and digits (baseline under row 6); row 7 holds descenders.
    public static let glyphHeight = 8
    /// Horizontal distance between the left edges of consecutive characters, at scale 1.
    public static let advance = 6
    /// Vertical distance between baselines of consecutive lines, at scale 1.
    public static let lineHeight = 10

    /// Width in pixels of `text` on one line: characters × advance × scale.
    public static func textWidth(_ text: String, scale: Int = 1) -> Int {
        text.count * advance * max(1, scale)
    }

    /// Whether `character` has a glyph (rather than drawing as a box).
    public static func hasGlyph(_ character: Character) -> Bool {
        rows(for: character) != nil
    }

    /// Draws `text` on one line with the top-left of its first cell at (x, y), each font pixel
    /// a `scale`×`scale` block. Pixels outside the image are skipped.
    public static func drawText(_ text: String, into image: inout RGBImage, x: Int, y: Int,
                                scale: Int = 1, color: RGBColor) {
        // Far-off positions and huge scales cannot land on any image: skip them rather than
        // risk overflowing the coordinate arithmetic.
        let reach = 1 << 40
        guard (-reach...reach).contains(x), (-reach...reach).contains(y) else { return }
        let scale = min(max(1, scale), 256)
        var left = x
        for character in text {
            if let rows = rows(for: character) {
                for (row, bits) in rows.enumerated() {
                    for column in 0..<glyphWidth where bits & (1 << (glyphWidth - 1 - column)) != 0 {
                        image.fillRect(x: left + column * scale, y: y + row * scale, width: scale, height: scale, color)
                    }
                }
            } else {
                // Unknown character: the outline of the capital-height cell.
                image.strokeRect(x: left, y: y, width: glyphWidth * scale, height: 7 * scale, color)
            }
            left += advance * scale
        }
    }

    /// The glyph's rows as bit masks (bit 4 = leftmost column), or nil for unknown characters.
    static func rows(for character: Character) -> [UInt8]? {
        switch character {
        case "−": return glyphs["-"]
        default: return glyphs[character]
        }
    }

    /// Parsed once from `patterns`: `#` is ink, anything else is paper; missing rows are blank.
    static let glyphs: [Character: [UInt8]] = patterns.mapValues { rows in
        (0..<glyphHeight).map { index in
            guard index < rows.count else { return 0 }
            return rows[index].prefix(glyphWidth).reduce(UInt8(0)) { ($0 << 1) | ($1 == "#" ? 1 : 0) }
                << UInt8(glyphWidth - min(glyphWidth, rows[index].count))
        }
    }
}
