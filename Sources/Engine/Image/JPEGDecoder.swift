internal import CSFJPEG

/// Decodes JPEG through TurboJPEG's `tj*` API (libjpeg's `setjmp` error handling stays inside
/// the library). Greyscale JPEGs come out as RGB with R = G = B; CMYK and YCCK JPEGs (print
/// workflows) are refused rather than guessed at, since their inks need a colour profile.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], name: String, maxPixels: Int) throws(EngineError) -> RGBImage {
        guard let handle = tjInitDecompress() else {
            throw EngineError(.io, "cannot start the JPEG decoder for '\(name)'", cause: errorText(nil))
        }
        defer { tjDestroy(handle) }

        return try bytes.withUnsafeBufferPointer { (jpeg: UnsafeBufferPointer<UInt8>) throws(EngineError) -> RGBImage in
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
            guard tjDecompressHeader3(handle, jpeg.baseAddress, UInt(jpeg.count),
                                      &width, &height, &subsampling, &colourspace) == 0 else {
                throw corrupt(name, handle)
            }
            if colourspace == Int32(TJCS_CMYK.rawValue) || colourspace == Int32(TJCS_YCCK.rawValue) {
                throw EngineError(
                    .unsupportedImage,
                    "image '\(name)' is a CMYK JPEG, which StyleFarm does not read; convert it to RGB (sRGB) first"
                )
            }
            // libjpeg pads a truncated header with an end-of-image marker, so a cut-off file can
            // "succeed" with a 0×0 size; that is damage, not an empty picture.
            guard width > 0, height > 0 else { throw corrupt(name, handle) }
            let pixelCount = try ImageLimits.checkedPixelCount(
                width: Int(width), height: Int(height), maxPixels: maxPixels, name: name)

            // Warnings (a truncated or damaged scan) stop decoding too: a half-grey image is
            // not something to spend a render on. LIMITSCANS refuses progressive JPEGs with
            // absurd scan counts, a known way to make decoding take minutes.
            let flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
            var failed = false
            let samples = [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { buffer, count in
                let status = tjDecompress2(handle, jpeg.baseAddress, UInt(jpeg.count), buffer.baseAddress,
                                           width, 0, height, Int32(TJPF_RGB.rawValue), flags)
                failed = status != 0
                count = failed ? 0 : pixelCount * 3
            }
            if failed { throw corrupt(name, handle) }

            let pixels = [Float](unsafeUninitializedCapacity: samples.count) { buffer, count in
                for i in 0..<samples.count { buffer[i] = Float(samples[i]) }
                count = samples.count
            }
            return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
        }
    }

    private static func corrupt(_ name: String, _ handle: tjhandle) -> EngineError {
        EngineError(
            .invalidImage,
            "image '\(name)' is not a readable JPEG (corrupt or truncated); re-export or re-download it",
            cause: errorText(handle)
        )
    }

    private static func errorText(_ handle: tjhandle?) -> String? {
        guard let text = tjGetErrorStr2(handle) else { return nil }
        return "TurboJPEG: \(String(cString: text))"
    }
}
