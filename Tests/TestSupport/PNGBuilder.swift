/// Builds PNG files byte by byte, independently of libpng, so tests can make any colour type,
/// bit depth or chunk layout, including headers that lie. Image data is stored uncompressed
/// (deflate "stored" blocks), which keeps the builder tiny; fixtures are a few pixels anyway.
public struct PNGBuilder: Sendable {
    public enum ColourType: UInt8, Sendable {
        case grey = 0, rgb = 2, palette = 3, greyAlpha = 4, rgba = 6

        public var channels: Int {
            switch self {
            case .grey, .palette: 1
            case .greyAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    public var width: Int
    public var height: Int
    public var colourType: ColourType
    /// 1, 2, 4, 8 or 16, as the PNG spec allows for the colour type.
    public var bitDepth: Int
    /// `width * height * colourType.channels` samples, row-major, each below `1 << bitDepth`.
    public var samples: [Int]
    /// PLTE entries, for `.palette`.
    public var palette: [(red: UInt8, green: UInt8, blue: UInt8)] = []
    /// tRNS alpha per palette entry, for `.palette`.
    public var paletteAlpha: [UInt8]? = nil
    /// A gAMA chunk with this value × 100000 (45455 for sRGB's 1/2.2, 100000 for linear).
    public var gamma: UInt32? = nil

    public init(width: Int, height: Int, colourType: ColourType, bitDepth: Int = 8, samples: [Int]) {
        self.width = width
        self.height = height
        self.colourType = colourType
        self.bitDepth = bitDepth
        self.samples = samples
    }

    public func encoded() -> [UInt8] {
        var file = Self.signature + Self.chunk("IHDR", Self.headerData(width: width, height: height,
                                                                         bitDepth: bitDepth, colourType: colourType))
        if let gamma { file += Self.chunk("gAMA", Self.bigEndian(gamma)) }
        if colourType == .palette {
            file += Self.chunk("PLTE", palette.flatMap { [$0.red, $0.green, $0.blue] })
            if let paletteAlpha { file += Self.chunk("tRNS", paletteAlpha) }
        }
        file += Self.chunk("IDAT", Self.zlibStored(scanlines()))
        file += Self.chunk("IEND", [])
        return file
    }

    /// Each row: filter byte 0 ("None"), then the samples packed big-endian at `bitDepth` bits.
    private func scanlines() -> [UInt8] {
        let perRow = width * colourType.channels
        var bytes: [UInt8] = []
        for y in 0..<height {
            bytes.append(0)
            let row = samples[y * perRow..<(y + 1) * perRow]
            if bitDepth == 16 {
                for sample in row { bytes += [UInt8(sample >> 8), UInt8(sample & 0xFF)] }
            } else {
                var accumulator = 0, bits = 0
                for sample in row {
                    accumulator = accumulator << bitDepth | sample
                    bits += bitDepth
                    if bits == 8 { bytes.append(UInt8(accumulator)); accumulator = 0; bits = 0 }
                }
                if bits > 0 { bytes.append(UInt8(accumulator << (8 - bits))) }
            }
        }
        return bytes
    }

    // MARK: - Pieces, public for tests that craft files by hand

    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A well-formed PNG (correct CRCs) whose header claims `width`×`height` but whose image
    /// data is a single row's worth of nothing: what a decompression bomb or a lying header
    /// looks like. Any attempt to decode its pixels fails; only a header check can refuse it
    /// for its size.
    public static func claimingSize(width: Int, height: Int, colourType: ColourType = .rgb, bitDepth: Int = 8) -> [UInt8] {
        signature
            + chunk("IHDR", headerData(width: width, height: height, bitDepth: bitDepth, colourType: colourType))
            + chunk("IDAT", zlibStored([0]))
            + chunk("IEND", [])
    }

    public static func headerData(width: Int, height: Int, bitDepth: Int, colourType: ColourType) -> [UInt8] {
        bigEndian(UInt32(width)) + bigEndian(UInt32(height))
            + [UInt8(bitDepth), colourType.rawValue, 0, 0, 0]  // deflate, adaptive filtering, no interlace
    }

    /// length, type, data, CRC-32 of type and data.
    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(crc32(typeAndData))
    }

    /// CRC-32 as PNG and zlib define it (reflected polynomial 0xEDB88320).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A zlib stream holding `data` in uncompressed deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            out += [final, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<offset + length]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + bigEndian(b << 16 | a)
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
