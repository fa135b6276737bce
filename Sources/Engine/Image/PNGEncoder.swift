internal import CSFPNG

/// Encodes `RGBImage` as an 8- or 16-bit RGB PNG with libpng's simplified write API.
///
/// Samples are rounded to the nearest level and clamped: 0…255 for 8-bit, value × 257 in
/// 0…65535 for 16-bit (so 255 maps to 65535). NaN becomes 0: a diverged render should still
/// produce a file, not a crash.
///
/// The simplified API writes 16-bit data only as linear light, tagging the file with gAMA 1.0
/// and cHRM. Our samples are sRGB-encoded, so we hand it the encoded values and then remove
/// those two chunks: an untagged PNG is read as sRGB by viewers and by `PNGDecoder`, and the
/// stored samples are exactly value × 257. 8-bit files keep libpng's sRGB chunk.
enum PNGEncoder {
    static func encode(_ image: RGBImage, bitDepth: Int) throws(EngineError) -> [UInt8] {
        guard let stride = Int32(exactly: image.width * 3), let height = UInt32(exactly: image.height) else {
            throw EngineError(.invalidArgument, "a \(image.width)×\(image.height) image is too large to write as PNG")
        }
        var header = png_image()
        header.version = UInt32(PNG_IMAGE_VERSION)
        header.width = UInt32(image.width)  // fits: width × 3 fits in Int32
        header.height = height

        switch bitDepth {
        case 8:
            header.format = UInt32(PNG_FORMAT_RGB)
            let samples = image.pixels.map { UInt8(quantise($0, scale: 1, max: 255)) }
            return try write(&header, samples, stride: stride)
        case 16:
            header.format = UInt32(PNG_FORMAT_LINEAR_RGB)
            let samples = image.pixels.map { UInt16(quantise($0, scale: 257, max: 65535)) }
            let tagged = try write(&header, samples, stride: stride)
            return PNGChunks.removing(["gAMA", "cHRM"], from: tagged)
        default:
            throw EngineError(.invalidArgument, "PNG bit depth must be 8 or 16, got \(bitDepth)")
        }
    }

    /// `value × scale` rounded to the nearest integer and clamped to 0…max; NaN gives 0.
    static func quantise(_ value: Float, scale: Float, max: Float) -> Float {
        let scaled = (value * scale).rounded()
        if scaled >= max { return max }
        if scaled > 0 { return scaled }
        return 0  // also NaN, for which every comparison is false
    }

    private static func write<Sample>(
        _ header: inout png_image, _ samples: [Sample], stride: Int32
    ) throws(EngineError) -> [UInt8] {
        try samples.withUnsafeBufferPointer { (typed: UnsafeBufferPointer<Sample>) throws(EngineError) -> [UInt8] in
            let source = UnsafeRawBufferPointer(typed)
            // Deflate rarely grows data by more than a fraction of a percent; 1/8 spare covers
            // incompressible noise. If libpng still needs more it says how much, and we retry.
            var capacity = source.count + source.count / 8 + 4096
            for _ in 0..<2 {
                var size = capacity
                let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                    let ok = png_image_write_to_memory(&header, buffer.baseAddress, &size, 0,
                                                       source.baseAddress, stride, nil)
                    count = ok != 0 ? size : 0
                }
                if !output.isEmpty { return output }
                if size <= capacity { break }  // a real error, not a short buffer
                capacity = size
            }
            let detail = withUnsafeBytes(of: header.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw EngineError(
                .io, "cannot encode a \(header.width)×\(header.height) image as PNG",
                cause: detail.isEmpty ? nil : "libpng: \(detail)")
        }
    }
}
