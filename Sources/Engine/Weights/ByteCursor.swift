/// A bounds-checked reader over bytes that came from outside the process.
///
/// Every read checks the remaining length first and throws `EngineError(.weightsCorrupt)`
/// instead of trapping, so a truncated or hostile file can never crash the engine.
struct ByteCursor {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// Reads stop here (exclusive); bytes after it belong to something else, e.g. a checksum.
    let end: Int
    /// Names the thing being read in error messages, e.g. "pickle" or "weights file 'x.sfw'".
    let context: String

    init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil, context: String) {
        self.bytes = bytes
        self.end = min(max(end ?? bytes.count, 0), bytes.count)
        self.offset = min(max(offset, 0), self.end)
        self.context = context
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset == end }

    func corrupt(_ what: String, at position: Int? = nil) -> EngineError {
        EngineError(.weightsCorrupt, "\(context) is malformed at byte \(position ?? offset): \(what)")
    }

    /// Checks that `count` bytes remain and returns the range they occupy.
    mutating func take(_ count: Int, for what: String) throws -> Range<Int> {
        guard count >= 0 else { throw corrupt("negative length \(count) for \(what)") }
        guard count <= remaining else {
            throw corrupt("truncated: \(what) needs \(count) bytes but only \(remaining) remain")
        }
        let range = offset..<(offset + count)
        offset += count
        return range
    }

    mutating func skip(_ count: Int, for what: String) throws {
        _ = try take(count, for: what)
    }

    mutating func readBytes(_ count: Int, for what: String) throws -> ArraySlice<UInt8> {
        bytes[try take(count, for: what)]
    }

    mutating func readUInt8(for what: String) throws -> UInt8 {
        bytes[try take(1, for: what).lowerBound]
    }

    /// Reads an unsigned little-endian integer of `width` bytes (at most 8).
    private mutating func readLittleEndian(_ width: Int, for what: String) throws -> UInt64 {
        let range = try take(width, for: what)
        var value: UInt64 = 0
        for index in range.reversed() {
            value = value << 8 | UInt64(bytes[index])
        }
        return value
    }

    mutating func readUInt16LE(for what: String) throws -> UInt16 {
        UInt16(truncatingIfNeeded: try readLittleEndian(2, for: what))
    }

    mutating func readUInt32LE(for what: String) throws -> UInt32 {
        UInt32(truncatingIfNeeded: try readLittleEndian(4, for: what))
    }

    mutating func readInt32LE(for what: String) throws -> Int32 {
        Int32(bitPattern: try readUInt32LE(for: what))
    }

    mutating func readUInt64LE(for what: String) throws -> UInt64 {
        try readLittleEndian(8, for: what)
    }

    mutating func readInt64LE(for what: String) throws -> Int64 {
        Int64(bitPattern: try readLittleEndian(8, for: what))
    }

    /// A big-endian IEEE 754 double, as pickle's BINFLOAT stores it.
    mutating func readFloat64BE(for what: String) throws -> Double {
        let range = try take(8, for: what)
        var bits: UInt64 = 0
        for index in range {
            bits = bits << 8 | UInt64(bytes[index])
        }
        return Double(bitPattern: bits)
    }

    /// Reads up to and including the next `\n` (protocol-0 text arguments), without the newline.
    mutating func readLine(maxLength: Int, for what: String) throws -> ArraySlice<UInt8> {
        let start = offset
        let limit = min(end, offset + maxLength + 1)
        guard let newline = bytes[start..<limit].firstIndex(of: UInt8(ascii: "\n")) else {
            if limit == end {
                throw corrupt("truncated: \(what) has no terminating newline")
            }
            throw corrupt("\(what) is longer than \(maxLength) bytes")
        }
        offset = newline + 1
        return bytes[start..<newline]
    }
}

/// Little-endian float32 ⇄ bytes, as a copy on little-endian hosts (every platform we run on)
/// and an explicit byte swap elsewhere.
enum LittleEndianFloats {
    /// Decodes `bytes.count / 4` floats; `bytes.count` must be a multiple of 4.
    static func decode(_ bytes: ArraySlice<UInt8>) -> [Float] {
        let count = bytes.count / 4
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                #if _endian(little)
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<count * 4]))
                #else
                for index in 0..<count {
                    let bits = raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
                    buffer[index] = Float(bitPattern: UInt32(littleEndian: bits))
                }
                #endif
            }
            initialized = count
        }
    }

    static func append(_ values: [Float], to bytes: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        #endif
    }
}
