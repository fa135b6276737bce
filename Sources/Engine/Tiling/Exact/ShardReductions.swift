/// Scalars every shard of an exact job contributes to one L-BFGS iteration: partial dot
/// products (summed over shards) and partial maxima (the largest over shards). One `dots`
/// round carries them all, so an iteration costs one exchange however long its history is
/// (the "vector-free" L-BFGS of Chen, Wang & Zhou, NIPS 2014).
public struct ShardReductions: Sendable, Equatable {
    public var sums: [Double]
    public var maxes: [Double]

    /// More values than any history needs ((2·1000 + 1)·3 dot products); a longer message is corrupt.
    public static let maxValues = 1 << 16

    public init(sums: [Double] = [], maxes: [Double] = []) {
        self.sums = sums
        self.maxes = maxes
    }

    /// Every shard's reductions combined in shard order: sums added, maxima taken.
    public static func combine(_ parts: [ShardReductions]) throws -> ShardReductions {
        guard var total = parts.first else { return ShardReductions() }
        for part in parts.dropFirst() {
            guard part.sums.count == total.sums.count, part.maxes.count == total.maxes.count else {
                throw EngineError(.invalidArgument, "shards sent \(part.sums.count)+\(part.maxes.count) and \(total.sums.count)+\(total.maxes.count) reductions for one round")
            }
            for i in total.sums.indices { total.sums[i] += part.sums[i] }
            for i in total.maxes.indices { total.maxes[i] = max(total.maxes[i], part.maxes[i]) }
        }
        return total
    }

    /// Two little-endian UInt32 counts, then the sums and the maxima as Float64.
    public func encoded() throws -> [UInt8] {
        guard sums.count + maxes.count <= Self.maxValues else {
            throw EngineError(.invalidArgument, "\(sums.count + maxes.count) reductions are more than \(Self.maxValues)")
        }
        guard sums.allSatisfy(\.isFinite), maxes.allSatisfy(\.isFinite) else {
            throw EngineError(.numeric, "dot products are not finite (the render diverged); lower --lr or the loss weights")
        }
        var bytes = ExactExchangeCodec.littleEndian(UInt32(sums.count)) + ExactExchangeCodec.littleEndian(UInt32(maxes.count))
        bytes.reserveCapacity(8 + 8 * (sums.count + maxes.count))
        for value in sums + maxes { bytes += ExactExchangeCodec.littleEndian64(value.bitPattern) }
        return bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> ShardReductions {
        guard bytes.count >= 8 else { throw EngineError(.invalidArgument, "exchanged dot products are malformed: \(bytes.count) bytes") }
        let sumCount = Int(ExactExchangeCodec.readUInt32(bytes, at: 0)), maxCount = Int(ExactExchangeCodec.readUInt32(bytes, at: 4))
        guard sumCount + maxCount <= maxValues, bytes.count == 8 + 8 * (sumCount + maxCount) else {
            throw EngineError(.invalidArgument, "exchanged dot products are malformed: \(sumCount)+\(maxCount) values in \(bytes.count) bytes")
        }
        var values = [Double](repeating: 0, count: sumCount + maxCount)
        for i in values.indices {
            values[i] = Double(bitPattern: ExactExchangeCodec.readUInt64(bytes, at: 8 + 8 * i))
            guard values[i].isFinite else { throw EngineError(.numeric, "exchanged dot products are not finite (a shard diverged)") }
        }
        return ShardReductions(sums: Array(values[..<sumCount]), maxes: Array(values[sumCount...]))
    }
}
