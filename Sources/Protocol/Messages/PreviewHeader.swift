import Foundation

/// The format and declared size of a PNG or JPEG from its first bytes: PNG's IHDR chunk, or
/// JPEG's first start-of-frame segment. Walks at most the given bytes, each step moving
/// forward, and decodes nothing.
enum PreviewHeader {
    struct Failure: Error {
        var reason: String
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func read(_ data: Data) throws(Failure) -> (format: PreviewImage.Format, width: Int, height: Int) {
        let bytes = [UInt8](data)   // at most `PreviewImage.maximumBytes`, checked before
        if bytes.starts(with: pngSignature) {
            let (width, height) = try png(bytes)
            return (.png, width, height)
        }
        if bytes.starts(with: [0xFF, 0xD8]) {
            let (width, height) = try jpeg(bytes)
            return (.jpeg, width, height)
        }
        throw Failure(reason: bytes.isEmpty ? "it is empty" : "it starts with neither the PNG signature nor a JPEG start-of-image marker")
    }

    /// signature(8), IHDR length(4) = 13, "IHDR"(4), width(4), height(4), …
    private static func png(_ bytes: [UInt8]) throws(Failure) -> (Int, Int) {
        guard bytes.count >= 24, bigEndian(bytes, at: 8, count: 4) == 13, bytes[12..<16].elementsEqual("IHDR".utf8) else {
            throw Failure(reason: "a PNG whose first chunk is not IHDR")
        }
        let width = bigEndian(bytes, at: 16, count: 4), height = bigEndian(bytes, at: 20, count: 4)
        guard width > 0, height > 0 else { throw Failure(reason: "a PNG that declares \(width)×\(height) pixels") }
        return (width, height)
    }

    /// Segments after SOI until the first SOFn (not DHT C4, JPG C8 or DAC CC, which share the range).
    private static func jpeg(_ bytes: [UInt8]) throws(Failure) -> (Int, Int) {
        var i = 2
        while i < bytes.count {
            guard bytes[i] == 0xFF else { throw Failure(reason: "a JPEG with a broken segment at byte \(i)") }
            while i < bytes.count, bytes[i] == 0xFF { i += 1 }   // fill bytes
            guard i < bytes.count else { break }
            let marker = bytes[i]
            i += 1
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }   // no length
            if marker == 0xD9 || marker == 0xDA { throw Failure(reason: "a JPEG without a frame header before its scan") }
            guard i + 2 <= bytes.count else { break }
            let length = bigEndian(bytes, at: i, count: 2)
            guard length >= 2 else { throw Failure(reason: "a JPEG segment of length \(length)") }
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                // length(2), precision(1), height(2), width(2)
                guard length >= 7, i + 7 <= bytes.count else { break }
                let height = bigEndian(bytes, at: i + 3, count: 2), width = bigEndian(bytes, at: i + 5, count: 2)
                guard width > 0, height > 0 else { throw Failure(reason: "a JPEG that declares \(width)×\(height) pixels") }
                return (width, height)
            }
            i += length
        }
        throw Failure(reason: "a JPEG cut off before its frame header")
    }

    private static func bigEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> Int {
        bytes[offset..<offset + count].reduce(0) { $0 << 8 | Int($1) }
    }
}
