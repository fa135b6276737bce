/// A colour on the 0…255 scale of `RGBImage`, for drawing text, axes and plot lines.
public struct RGBColor: Sendable, Hashable {
    public var red: Float
    public var green: Float
    public var blue: Float

    public init(red: Float, green: Float, blue: Float) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    public static let black = RGBColor(red: 0, green: 0, blue: 0)
    public static let gray = RGBColor(red: 128, green: 128, blue: 128)
    public static let lightGray = RGBColor(red: 220, green: 220, blue: 220)

    /// Line colours for plot series, distinct from each other and from black, gray and white
    /// (Tableau 10). Series beyond the palette reuse it from the start.
    public static let palette: [RGBColor] = [
        RGBColor(red: 31, green: 119, blue: 180),
        RGBColor(red: 255, green: 127, blue: 14),
        RGBColor(red: 44, green: 160, blue: 44),
        RGBColor(red: 214, green: 39, blue: 40),
        RGBColor(red: 148, green: 103, blue: 189),
        RGBColor(red: 140, green: 86, blue: 75),
        RGBColor(red: 227, green: 119, blue: 194),
        RGBColor(red: 188, green: 189, blue: 34),
        RGBColor(red: 23, green: 190, blue: 207),
    ]

    /// The palette colour of series `index` (0-based); any index, negative ones included, is valid.
    public static func series(_ index: Int) -> RGBColor {
        let count = palette.count
        return palette[((index % count) + count) % count]
    }
}
