internal import CSFPNG

/// Decodes PNG through libpng's simplified `png_image_*` API, which reports errors through
/// `png_image.message` instead of `setjmp`/`longjmp`.
///
/// Colour encoding. `RGBImage` holds sRGB-encoded samples (what the file stores, what a
/// viewer shows). The simplified API returns 8-bit samples sRGB-encoded, but 16-bit samples
/// only as *linear light* (`PNG_FORMAT_FLAG_LINEAR`): it decodes the file's gamma with
/// libpng's power-law gamma code (1/2.2 for sRGB files), and re-encoding those 16-bit linear
/// values would lose more precision near black than 8-bit sRGB has. So:
/// - 8-bit, palette and low-bit-depth files are read as 8-bit sRGB; libpng applies any
///   gamma or sRGB chunk.
/// - 16-bit files without a gAMA, sRGB or iCCP chunk (what most tools write, and what
///   `PNGEncoder` writes) are read as 16-bit "linear" data. libpng then takes the file to be
///   linear already and passes the samples through untouched; we treat them as sRGB-encoded,
///   the usual meaning of an untagged PNG. This keeps all 16 bits.
/// - 16-bit files that do say how they are encoded are read as 8-bit sRGB, letting libpng
///   apply their gamma: right colours, 8-bit precision.
///
/// Alpha. Transparent pixels are composited on white: images with transparency are usually
/// drawings or cut-outs meant to sit on paper, and the colour stored under alpha 0 is
/// arbitrary (often black). libpng blends 8-bit output in linear light; 16-bit output is
/// blended on the stored values.
enum PNGDecoder {
    static func decode(_ bytes: [UInt8], name: String, maxPixels: Int) throws(EngineError) -> RGBImage {
        try checkDeclaredSize(bytes, name: name, maxPixels: maxPixels)
        return try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(EngineError) -> RGBImage in
            let raw = UnsafeRawBufferPointer(buffer)
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            defer { png_image_free(&image) }

            // Reads the signature and the chunks before the image data, not the pixels.
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw corrupt(name, image)
            }
            let width = Int(image.width)
            let height = Int(image.height)
            let pixelCount = try ImageLimits.checkedPixelCount(
                width: width, height: height, maxPixels: maxPixels, name: name)

            let hasAlpha = image.format & PNG_FORMAT_FLAG_ALPHA != 0
            if image.format & PNG_FORMAT_FLAG_LINEAR != 0, !PNGChunks.hasColourEncoding(bytes) {
                return try readUntagged16Bit(&image, width: width, height: height,
                                             pixelCount: pixelCount, hasAlpha: hasAlpha, name: name)
            }
            return try read8Bit(&image, width: width, height: height, pixelCount: pixelCount, name: name)
        }
    }

    /// Applies the pixel limit to the IHDR chunk's size before libpng sees the file, so that
    /// sizes libpng itself rejects (over a million pixels wide or high) are reported as too
    /// large rather than as corrupt. Files too short or malformed for this are left to libpng.
    private static func checkDeclaredSize(_ bytes: [UInt8], name: String, maxPixels: Int) throws(EngineError) {
        // signature(8), IHDR length(4), "IHDR"(4), width(4), height(4)
        guard bytes.count >= 24, bytes[12..<16].elementsEqual("IHDR".utf8) else { return }
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        guard width > 0, height > 0 else { return }
        _ = try ImageLimits.checkedPixelCount(width: width, height: height, maxPixels: maxPixels, name: name)
    }

    private static func read8Bit(
        _ image: inout png_image, width: Int, height: Int, pixelCount: Int, name: String
    ) throws(EngineError) -> RGBImage {
        image.format = UInt32(PNG_FORMAT_RGB)
        let stride = try rowStride(width: width, channels: 3, name: name)
        var white = png_color(red: 255, green: 255, blue: 255)
        var failure: EngineError?
        let samples = [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { buffer, count in
            if png_image_finish_read(&image, &white, buffer.baseAddress, stride, nil) == 0 {
                failure = corrupt(name, image)
                count = 0
            } else {
                count = pixelCount * 3
            }
        }
        if let failure { throw failure }
        let pixels = [Float](unsafeUninitializedCapacity: samples.count) { buffer, count in
            for i in 0..<samples.count { buffer[i] = Float(samples[i]) }
            count = samples.count
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func readUntagged16Bit(
        _ image: inout png_image, width: Int, height: Int, pixelCount: Int, hasAlpha: Bool, name: String
    ) throws(EngineError) -> RGBImage {
        // Linear formats return alpha premultiplied ("associated"); see the type comment.
        let channels = hasAlpha ? 4 : 3
        image.format = UInt32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR | (hasAlpha ? PNG_FORMAT_FLAG_ALPHA : 0))
        let stride = try rowStride(width: width, channels: channels, name: name)
        var failure: EngineError?
        let samples = [UInt16](unsafeUninitializedCapacity: pixelCount * channels) { buffer, count in
            if png_image_finish_read(&image, nil, buffer.baseAddress, stride, nil) == 0 {
                failure = corrupt(name, image)
                count = 0
            } else {
                count = pixelCount * channels
            }
        }
        if let failure { throw failure }

        let pixels = [Float](unsafeUninitializedCapacity: pixelCount * 3) { buffer, count in
            for p in 0..<pixelCount {
                // Over white: premultiplied colour + (1 - alpha) × white. Without alpha, the
                // white term is zero.
                let white = hasAlpha ? 65535 - Float(samples[p * 4 + 3]) : 0
                for c in 0..<3 {
                    buffer[p * 3 + c] = (Float(samples[p * channels + c]) + white) / 257
                }
            }
            count = pixelCount * 3
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The row stride in samples, which libpng takes as a 32-bit int.
    private static func rowStride(width: Int, channels: Int, name: String) throws(EngineError) -> Int32 {
        guard let stride = Int32(exactly: width * channels) else {
            throw EngineError(.imageTooLarge, "image '\(name)' is \(width) pixels wide, too wide to decode")
        }
        return stride
    }

    private static func corrupt(_ name: String, _ image: png_image) -> EngineError {
        EngineError(
            .invalidImage,
            "image '\(name)' is not a readable PNG (corrupt or truncated); re-export or re-download it",
            cause: message(of: image)
        )
    }

    /// libpng's error text from the fixed 64-byte `message` field, read without trusting it
    /// to be terminated.
    private static func message(of image: png_image) -> String? {
        let text = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? nil : "libpng: \(text)"
    }
}
