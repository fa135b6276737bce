internal import CSFJPEG

/// An image's format and size from its header alone: what the coordinator checks a submitted
/// image with, so that it never decodes a whole (possibly huge) image on the loop that answers
/// heartbeats. Workers decode the image, with the same pixel limit, when they render.
public struct ImageHeader: Sendable, Equatable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int

    /// Reads the header; refuses anything that is not a PNG or JPEG with a positive size within
    /// `maxPixels`.
    public static func read(_ bytes: [UInt8], name: String, maxPixels: Int) throws(EngineError) -> ImageHeader {
        try ImageLimits.validate(maxPixels: maxPixels)
        let format = try ImageFormat.sniff(bytes, name: name)
        let (width, height): (Int, Int)
        switch format {
        case .png:
            // signature(8), IHDR length(4), "IHDR"(4), width(4), height(4)
            guard bytes.count >= 33, bytes[12..<16].elementsEqual("IHDR".utf8) else {
                throw EngineError(.invalidImage, "image '\(name)' is not a readable PNG (no IHDR header)")
            }
            width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
            height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        case .jpeg:
            (width, height) = try jpegSize(bytes, name: name)
        }
        guard width > 0, height > 0 else {
            throw EngineError(.invalidImage, "image '\(name)' declares an empty size (\(width)×\(height))")
        }
        _ = try ImageLimits.checkedPixelCount(width: width, height: height, maxPixels: maxPixels, name: name)
        return ImageHeader(format: format, width: width, height: height)
    }

    private static func jpegSize(_ bytes: [UInt8], name: String) throws(EngineError) -> (Int, Int) {
        guard let handle = tjInitDecompress() else {
            throw EngineError(.io, "cannot start the JPEG decoder for '\(name)'")
        }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        let status = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colourspace)
        }
        guard status == 0 else { throw EngineError(.invalidImage, "image '\(name)' is not a readable JPEG") }
        if colourspace == Int32(TJCS_CMYK.rawValue) || colourspace == Int32(TJCS_YCCK.rawValue) {
            throw EngineError(.unsupportedImage, "image '\(name)' is a CMYK JPEG, which StyleFarm does not read; convert it to RGB (sRGB) first")
        }
        return (Int(width), Int(height))
    }
}
