public import Foundation

/// One shard's state at the end of an iteration of an exact job: its own rows' pixels and its
/// optimiser's state (Adam's moments, or L-BFGS's gradient, history and the dot products of
/// its basis). Every shard of a gang saves at the same iteration, so the checkpoints of one
/// iteration together are the whole optimisation's state; a gang resumed from them continues
/// as if it had never stopped (the pixels are bit-identical, not re-derived).
///
/// Layout: the 8 bytes "SFCKPT01", a little-endian UInt32 header length, the header (JSON),
/// then each array of the header's list, in order: Float32 or Float64 samples, little-endian.
/// Decoding checks every size against the header and refuses non-finite samples.
public struct ExactShardCheckpoint: Sendable, Equatable {
    public struct Header: Sendable, Codable, Equatable {
        /// The iterations done when the state was saved.
        public var iteration: Int
        public var shardIndex: Int
        public var shardCount: Int
        /// "adam" or "lbfgs".
        public var optimizer: String
        /// Small scalars of the optimiser (step counts, the loss, the Hessian scale).
        public var scalars: [String: Double]
        /// The arrays that follow, in order: name, sample type ("f32" or "f64") and count.
        public var arrays: [ArrayEntry]
    }

    public struct ArrayEntry: Sendable, Codable, Equatable {
        public var name: String
        public var type: String
        public var count: Int
    }

    static let magic = Array("SFCKPT01".utf8)
    static let maxHeaderBytes = 1 << 20

    public var iteration: Int
    public var shardIndex: Int
    public var shardCount: Int
    public var optimizer: String
    public var scalars: [String: Double]
    public var floats: [String: [Float]]
    public var doubles: [String: [Double]]

    public init(iteration: Int, shardIndex: Int, shardCount: Int, optimizer: String, scalars: [String: Double] = [:],
                floats: [String: [Float]] = [:], doubles: [String: [Double]] = [:]) {
        self.iteration = iteration
        self.shardIndex = shardIndex
        self.shardCount = shardCount
        self.optimizer = optimizer
        self.scalars = scalars
        self.floats = floats
        self.doubles = doubles
    }

    public func encoded() throws -> [UInt8] {
        guard scalars.values.allSatisfy(\.isFinite) else { throw EngineError(.numeric, "a checkpoint's scalars are not finite") }
        let floatNames = floats.keys.sorted(), doubleNames = doubles.keys.sorted()
        let header = Header(iteration: iteration, shardIndex: shardIndex, shardCount: shardCount, optimizer: optimizer, scalars: scalars,
                            arrays: floatNames.map { ArrayEntry(name: $0, type: "f32", count: floats[$0]?.count ?? 0) }
                                + doubleNames.map { ArrayEntry(name: $0, type: "f64", count: doubles[$0]?.count ?? 0) })
        let json = [UInt8](try JSONEncoder().encode(header))
        var bytes = Self.magic + ExactExchangeCodec.littleEndian(UInt32(json.count)) + json
        bytes.reserveCapacity(bytes.count + 4 * floats.values.reduce(0) { $0 + $1.count } + 8 * doubles.values.reduce(0) { $0 + $1.count })
        for (_, values) in floats.sorted(by: { $0.key < $1.key }) {
            for value in values { bytes += ExactExchangeCodec.littleEndian(value.bitPattern) }
        }
        for (_, values) in doubles.sorted(by: { $0.key < $1.key }) {
            for value in values { bytes += ExactExchangeCodec.littleEndian64(value.bitPattern) }
        }
        return bytes
    }

    /// The header alone, with every size checked against the bytes (what the coordinator reads
    /// before storing a checkpoint it cannot otherwise interpret).
    public static func header(of bytes: [UInt8]) throws -> (header: Header, dataOffset: Int) {
        func failure(_ why: String) -> EngineError { EngineError(.invalidArgument, "checkpoint is malformed: \(why)") }
        guard bytes.count >= 12, Array(bytes[0..<8]) == magic else { throw failure("it does not start with SFCKPT01") }
        let length = Int(ExactExchangeCodec.readUInt32(bytes, at: 8))
        guard length <= maxHeaderBytes, length <= bytes.count - 12 else { throw failure("header of \(length) bytes") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[12..<(12 + length)])) } catch {
            throw failure("unreadable header (\(error))")
        }
        guard header.iteration >= 0, header.shardCount >= 1, (0..<header.shardCount).contains(header.shardIndex) else {
            throw failure("iteration \(header.iteration), shard \(header.shardIndex + 1) of \(header.shardCount)")
        }
        var data = 0
        for entry in header.arrays {
            let size = entry.type == "f32" ? 4 : entry.type == "f64" ? 8 : 0
            guard size > 0, entry.count >= 0, entry.count <= (bytes.count - 12 - length) / size,
                  data <= bytes.count - 12 - length - size * entry.count else {
                throw failure("array \(entry.name) of \(entry.count) \(entry.type) does not fit")
            }
            data += size * entry.count
        }
        guard 12 + length + data == bytes.count else { throw failure("\(bytes.count - 12 - length - data) bytes after the arrays") }
        return (header, 12 + length)
    }

    public static func decode(_ bytes: [UInt8]) throws -> ExactShardCheckpoint {
        let (header, start) = try header(of: bytes)
        var checkpoint = ExactShardCheckpoint(iteration: header.iteration, shardIndex: header.shardIndex, shardCount: header.shardCount,
                                              optimizer: header.optimizer, scalars: header.scalars)
        var offset = start
        for entry in header.arrays {
            if entry.type == "f32" {
                var values = [Float](repeating: 0, count: entry.count)
                for i in values.indices { values[i] = Float(bitPattern: ExactExchangeCodec.readUInt32(bytes, at: offset + 4 * i)) }
                offset += 4 * entry.count
                guard values.allSatisfy(\.isFinite) else { throw EngineError(.numeric, "checkpoint array \(entry.name) is not finite") }
                checkpoint.floats[entry.name] = values
            } else {
                var values = [Double](repeating: 0, count: entry.count)
                for i in values.indices { values[i] = Double(bitPattern: ExactExchangeCodec.readUInt64(bytes, at: offset + 8 * i)) }
                offset += 8 * entry.count
                guard values.allSatisfy(\.isFinite) else { throw EngineError(.numeric, "checkpoint array \(entry.name) is not finite") }
                checkpoint.doubles[entry.name] = values
            }
        }
        guard checkpoint.scalars.values.allSatisfy(\.isFinite) else { throw EngineError(.numeric, "checkpoint scalars are not finite") }
        return checkpoint
    }
}
