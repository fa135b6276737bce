internal import CSFJPEG

/// Encodes small JPEGs with TurboJPEG for decoder tests.
public enum JPEGFixture {
    public enum Layout: Sendable {
        /// 3 bytes per pixel, R G B.
        case rgb
        /// 1 byte per pixel, written as a single-component greyscale JPEG.
        case grey
        /// 4 bytes per pixel, C M Y K, written as a four-component (YCCK) JPEG.
        case cmyk
    }

    public struct EncodingFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// `samples` is row-major in `layout`. Chroma is not subsampled, so colour error comes
    /// only from quantisation.
    public static func encode(
        _ samples: [UInt8], width: Int, height: Int, layout: Layout = .rgb, quality: Int = 95
    ) throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw EncodingFailed(description: "tjInitCompress failed") }
        defer { tjDestroy(handle) }
        let (format, subsampling): (TJPF, TJSAMP) = switch layout {
        case .rgb: (TJPF_RGB, TJSAMP_444)
        case .grey: (TJPF_GRAY, TJSAMP_GRAY)
        case .cmyk: (TJPF_CMYK, TJSAMP_444)
        }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = samples.withUnsafeBufferPointer { source in
            tjCompress2(handle, source.baseAddress, Int32(width), 0, Int32(height), Int32(format.rawValue),
                        &output, &size, Int32(subsampling.rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        defer { tjFree(output) }
        guard status == 0, let output else {
            throw EncodingFailed(description: String(cString: tjGetErrorStr2(handle)))
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
