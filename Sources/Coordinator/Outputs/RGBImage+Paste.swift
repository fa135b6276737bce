public import Engine

extension RGBImage {
    /// Copies `image` with its top-left corner at (x, y), clipped to this image (the contact
    /// sheet's cells and the preview never need bounds checks at the call).
    public mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        for row in 0..<image.height where y + row >= 0 && y + row < height {
            for column in 0..<image.width where x + column >= 0 && x + column < width {
                let source = (row * image.width + column) * 3
                let target = ((y + row) * width + x + column) * 3
                pixels[target] = image.pixels[source]
                pixels[target + 1] = image.pixels[source + 1]
                pixels[target + 2] = image.pixels[source + 2]
            }
        }
    }
}
