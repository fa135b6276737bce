public import Foundation

/// The bytes shards and the coordinator exchange in an exact tiled job: partial sums (Grams as
/// Float32, the content and TV sums in a JSON header) and edge strips (rectangles and Float32
/// pixels). Decoding checks every size and refuses non-finite values: a diverged or damaged
/// shard stops the step with an error instead of poisoning the others.
public enum ExactExchangeCodec {
    struct SumsHeader: Codable {
        var contentSquares: [String: Double]
        var tv: Double
    }

    public static func encode(_ sums: ExactPartialSums) throws -> [UInt8] {
        guard sums.tv.isFinite, sums.contentSquares.values.allSatisfy(\.isFinite) else {
            throw EngineError(.numeric, "partial sums are not finite (the render diverged); lower --lr or the loss weights")
        }
        let header = try JSONEncoder().encode(SumsHeader(contentSquares: sums.contentSquares, tv: sums.tv))
        let grams = try StyleTargetsFile(styles: [sums.grams], layerOrder: [sums.grams.keys.sorted()]).encoded()
        return littleEndian(UInt32(header.count)) + [UInt8](header) + grams
    }

    public static func decodeSums(_ bytes: [UInt8]) throws -> ExactPartialSums {
        let failure = EngineError(.invalidArgument, "exchanged partial sums are malformed")
        guard bytes.count >= 4 else { throw failure }
        let length = Int(readUInt32(bytes, at: 0))
        guard length <= bytes.count - 4 else { throw failure }
        let header = try JSONDecoder().decode(SumsHeader.self, from: Data(bytes[4..<4 + length]))
        guard header.tv.isFinite, header.contentSquares.values.allSatisfy(\.isFinite) else {
            throw EngineError(.numeric, "exchanged partial sums are not finite (a shard diverged)")
        }
        let grams = try StyleTargetsFile.decode(Array(bytes[(4 + length)...]), name: "partial sums")
        return ExactPartialSums(grams: grams.styles.first ?? [:], contentSquares: header.contentSquares, tv: header.tv)
    }

    public static func encode(_ strips: [PixelStrip]) -> [UInt8] {
        var bytes = littleEndian(UInt32(strips.count))
        for strip in strips {
            for value in [strip.rect.x, strip.rect.y, strip.rect.width, strip.rect.height] { bytes += littleEndian(UInt32(value)) }
            strip.pixels.withUnsafeBufferPointer { for v in $0 { bytes += littleEndian(v.bitPattern) } }
        }
        return bytes
    }

    /// Strips, refusing any larger than `maxPixels` in all.
    public static func decodeStrips(_ bytes: [UInt8], maxPixels: Int) throws -> [PixelStrip] {
        func failure(_ why: String) -> EngineError { EngineError(.invalidArgument, "exchanged edge pixels are malformed: \(why)") }
        guard bytes.count >= 4 else { throw failure("\(bytes.count) bytes") }
        var offset = 4, total = 0
        var strips: [PixelStrip] = []
        for _ in 0..<Int(readUInt32(bytes, at: 0)) {
            guard offset + 16 <= bytes.count else { throw failure("it ends inside a strip's rectangle") }
            let r = (0..<4).map { Int(readUInt32(bytes, at: offset + 4 * $0)) }
            offset += 16
            let count = 3 * r[2] * r[3]
            total += r[2] * r[3]
            guard r[2] > 0, r[3] > 0, total <= maxPixels, offset + 4 * count <= bytes.count else {
                throw failure("strip \(r[2])×\(r[3]) at (\(r[0]), \(r[1])) of \(bytes.count) bytes, \(total) pixels in all (at most \(maxPixels))")
            }
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                values[i] = Float(bitPattern: readUInt32(bytes, at: offset + 4 * i))
                guard values[i].isFinite else { throw EngineError(.numeric, "exchanged edge pixels are not finite (a shard diverged)") }
            }
            offset += 4 * count
            strips.append(PixelStrip(rect: PixelRect(x: r[0], y: r[1], width: r[2], height: r[3]),
                                     pixels: Tensor(channels: 3, height: r[3], width: r[2], values: values)))
        }
        guard offset == bytes.count else { throw failure("\(bytes.count - offset) bytes after the last strip") }
        return strips
    }

    /// Where each strip lies in encoded strips: its rectangle and its bytes (header included),
    /// every size checked but no sample decoded (what a relay needs).
    public struct StripExtent: Sendable, Equatable {
        public var rect: PixelRect
        public var bytes: Range<Int>
    }

    public static func stripExtents(_ bytes: [UInt8], maxPixels: Int) throws -> [StripExtent] {
        func failure(_ why: String) -> EngineError { EngineError(.invalidArgument, "exchanged edge rows are malformed: \(why)") }
        guard bytes.count >= 4 else { throw failure("\(bytes.count) bytes") }
        var offset = 4, total = 0
        var extents: [StripExtent] = []
        for _ in 0..<Int(readUInt32(bytes, at: 0)) {
            guard offset + 16 <= bytes.count else { throw failure("it ends inside a strip's rectangle") }
            let r = (0..<4).map { Int(readUInt32(bytes, at: offset + 4 * $0)) }
            let (count, overflow) = (3 * 4 * r[2]).multipliedReportingOverflow(by: r[3])
            total += r[2] * r[3]
            guard r[2] > 0, r[3] > 0, !overflow, total <= maxPixels, offset + 16 + count <= bytes.count else {
                throw failure("strip \(r[2])×\(r[3]) at (\(r[0]), \(r[1])) of \(bytes.count) bytes, \(total) pixels in all (at most \(maxPixels))")
            }
            extents.append(StripExtent(rect: PixelRect(x: r[0], y: r[1], width: r[2], height: r[3]), bytes: offset..<(offset + 16 + count)))
            offset += 16 + count
        }
        guard offset == bytes.count else { throw failure("\(bytes.count - offset) bytes after the last strip") }
        return extents
    }

    public static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
    }

    static func littleEndian64(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(value >> (8 * UInt64($0)) & 0xff) }
    }

    static func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}
