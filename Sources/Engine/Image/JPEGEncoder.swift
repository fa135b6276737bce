internal import CSFJPEG

/// Encodes 8-bit RGB as JPEG through TurboJPEG's `tj*` API (previews and thumbnails: JPEG is
/// several times smaller than PNG for a painting). Chroma is subsampled 4:2:0, as cameras do.
enum JPEGEncoder {
    static func encode(_ image: RGBImage, quality: Int) throws(EngineError) -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw EngineError(.invalidArgument, "JPEG quality must be 1–100, got \(quality)")
        }
        guard let width = Int32(exactly: image.width), let height = Int32(exactly: image.height),
              image.width <= 65_535, image.height <= 65_535 else {
            throw EngineError(.invalidArgument, "a \(image.width)×\(image.height) image is too large for JPEG (65535 pixels a side at most)")
        }
        guard let handle = tjInitCompress() else {
            throw EngineError(.io, "cannot start the JPEG encoder", cause: errorText(nil))
        }
        defer { tjDestroy(handle) }
        let samples = image.pixels.map { UInt8(PNGEncoder.quantise($0, scale: 1, max: 255)) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = samples.withUnsafeBufferPointer { source in
            tjCompress2(handle, source.baseAddress, width, 0, height, Int32(TJPF_RGB.rawValue),
                        &output, &size, Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { tjFree(output) }
        guard status == 0, let output else {
            throw EngineError(.io, "cannot encode a \(image.width)×\(image.height) image as JPEG", cause: errorText(handle))
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    private static func errorText(_ handle: tjhandle?) -> String? {
        guard let text = tjGetErrorStr2(handle) else { return nil }
        return "TurboJPEG: \(String(cString: text))"
    }
}
