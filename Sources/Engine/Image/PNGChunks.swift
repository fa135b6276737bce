/// A minimal walk over the chunks of a PNG stream: `length(4) type(4) data(length) crc(4)`
/// after the 8-byte signature. libpng does the real parsing; this only answers the two
/// questions its simplified API cannot: which colour-encoding chunks a file has, and how to
/// drop the ones it writes for 16-bit output.
enum PNGChunks {
    struct Chunk {
        /// Four ASCII letters, e.g. "IHDR", "gAMA".
        let type: String
        /// The whole chunk, from its length field to the end of its CRC.
        let range: Range<Int>
    }

    /// The chunks of `bytes` up to and including `IEND` (or the first chunk of type `last`),
    /// stopping early at the first one that does not fit in the buffer. Never traps on
    /// malformed input.
    static func chunks(of bytes: [UInt8], through last: String = "IEND") -> [Chunk] {
        var result: [Chunk] = []
        var offset = ImageFormat.pngSignature.count
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let end = offset + 12 + length
            guard end <= bytes.count else { break }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            result.append(Chunk(type: type, range: offset..<end))
            if type == last || type == "IEND" { break }
            offset = end
        }
        return result
    }

    /// Whether the file says how its samples are encoded (gamma, sRGB or an ICC profile) before
    /// its image data. Without any of these, a PNG is taken to be sRGB-encoded.
    static func hasColourEncoding(_ bytes: [UInt8]) -> Bool {
        for chunk in chunks(of: bytes, through: "IDAT") {
            switch chunk.type {
            case "IDAT", "IEND": return false
            case "gAMA", "sRGB", "iCCP": return true
            default: continue
            }
        }
        return false
    }

    /// `bytes` without the chunks whose type is in `types`. Chunks are self-contained (each has
    /// its own CRC), so removing ancillary ones leaves a valid PNG.
    static func removing(_ types: Set<String>, from bytes: [UInt8]) -> [UInt8] {
        var result = Array(bytes.prefix(ImageFormat.pngSignature.count))
        result.reserveCapacity(bytes.count)
        var copiedUpTo = result.count
        for chunk in chunks(of: bytes) where types.contains(chunk.type) {
            result += bytes[copiedUpTo..<chunk.range.lowerBound]
            copiedUpTo = chunk.range.upperBound
        }
        result += bytes[copiedUpTo...]
        return result
    }
}
