/// Reading and writing image files: PNG and JPEG in, PNG out (and JPEG for previews).
///
/// Every function that reads takes `maxPixels` and checks the image's size from its header
/// before decoding any pixels, so a small file claiming to be enormous is refused cheaply.
/// Nothing here traps on what a file contains: every problem is an `EngineError`.
public enum ImageFile {
    /// Reads a PNG or JPEG file (recognised by its content, not its extension) as sRGB samples
    /// on the 0…255 scale. Transparency is composited on white.
    public static func read(path: String, maxPixels: Int = ImageLimits.defaultMaxPixels) throws(EngineError) -> RGBImage {
        try ImageLimits.validate(maxPixels: maxPixels)
        let bytes = try FileBytes.read(path: path, what: "image '\(path)'",
                                       maxBytes: ImageLimits.maxFileBytes(maxPixels: maxPixels))
        return try decode(bytes, name: path, maxPixels: maxPixels)
    }

    /// Decodes the bytes of a PNG or JPEG file. `name` identifies the image in error messages.
    public static func decode(
        _ bytes: [UInt8], name: String, maxPixels: Int = ImageLimits.defaultMaxPixels
    ) throws(EngineError) -> RGBImage {
        try ImageLimits.validate(maxPixels: maxPixels)
        switch try ImageFormat.sniff(bytes, name: name) {
        case .png: return try PNGDecoder.decode(bytes, name: name, maxPixels: maxPixels)
        case .jpeg: return try JPEGDecoder.decode(bytes, name: name, maxPixels: maxPixels)
        }
    }

    /// Reads a PNG or JPEG file as one luminance value per pixel on the 0…1 scale, for masks.
    /// See `luminance(of:)` for how colour becomes grey.
    public static func readGrey(
        path: String, maxPixels: Int = ImageLimits.defaultMaxPixels
    ) throws(EngineError) -> (width: Int, height: Int, values: [Float]) {
        let image = try read(path: path, maxPixels: maxPixels)
        return (image.width, image.height, luminance(of: image))
    }

    /// `decode` followed by `luminance(of:)`.
    public static func decodeGrey(
        _ bytes: [UInt8], name: String, maxPixels: Int = ImageLimits.defaultMaxPixels
    ) throws(EngineError) -> (width: Int, height: Int, values: [Float]) {
        let image = try decode(bytes, name: name, maxPixels: maxPixels)
        return (image.width, image.height, luminance(of: image))
    }

    /// Writes `image` as an 8- or 16-bit RGB PNG, atomically: the file appears complete
    /// or not at all. See `encodePNG` for how samples are quantised.
    public static func writePNG(_ image: RGBImage, path: String, bitDepth: Int = 8) throws(EngineError) {
        let bytes = try encodePNG(image, bitDepth: bitDepth)
        try FileBytes.writeAtomically(bytes, to: path, what: "image '\(path)'")
    }

    /// Encodes `image` as an 8- or 16-bit RGB PNG. Samples are rounded and clamped to 0…255
    /// (8-bit) or to 0…65535 after scaling by 257 (16-bit); NaN is written as 0.
    public static func encodePNG(_ image: RGBImage, bitDepth: Int = 8) throws(EngineError) -> [UInt8] {
        try PNGEncoder.encode(image, bitDepth: bitDepth)
    }

    /// Encodes `image` as an 8-bit baseline JPEG (4:2:0) at `quality` 1–100, samples rounded
    /// and clamped to 0…255: for previews and thumbnails, never for results.
    public static func encodeJPEG(_ image: RGBImage, quality: Int = 80) throws(EngineError) -> [UInt8] {
        try JPEGEncoder.encode(image, quality: quality)
    }
}
