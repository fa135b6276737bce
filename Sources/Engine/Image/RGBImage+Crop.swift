extension RGBImage {
    /// The pixels inside `rect`, e.g. a tile's window (`grid.tile(at:).window`).
    /// Throws `.invalidArgument` unless `rect` is non-empty and inside the image.
    public func cropped(to rect: PixelRect) throws(EngineError) -> RGBImage {
        guard rect.width > 0, rect.height > 0, PixelRect(x: 0, y: 0, width: width, height: height).contains(rect) else {
            throw EngineError(.invalidArgument, "cannot crop \(rect) from a \(width)×\(height) image: it is not inside it")
        }
        var samples: [Float] = []
        samples.reserveCapacity(rect.pixelCount * 3)
        for y in rect.rows {
            let start = (y * width + rect.x) * 3
            samples += pixels[start..<start + rect.width * 3]
        }
        return RGBImage(width: rect.width, height: rect.height, pixels: samples)
    }
}
