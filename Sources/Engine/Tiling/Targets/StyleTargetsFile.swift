public import Foundation

/// The style targets of a tiled job as one file: per style, per layer, a C×C Gram matrix.
///
/// Layout: the 8 bytes "SFGRAMS1", a little-endian UInt32 header length, the header (JSON: per
/// style its layers' names and channel counts, in order), then every matrix's Float32 samples,
/// little-endian, in header order. Reading checks every size against the header and refuses
/// non-finite samples, so a truncated or corrupt file is an error, not a wrong render.
public struct StyleTargetsFile: Sendable, Equatable {
    public struct Layer: Sendable, Codable, Equatable {
        public var name: String
        public var channels: Int
    }

    static let magic = Array("SFGRAMS1".utf8)
    /// No VGG19 layer has more channels; a header saying more is corrupt.
    static let maxChannels = 4096
    static let maxHeaderBytes = 1 << 20

    /// Per style, its Grams by layer name.
    public var styles: [[String: [Float]]]
    /// Per style, its layers in file order (the order they were computed in).
    public var layers: [[Layer]]

    public init(styles: [[String: [Float]]], layerOrder: [[String]]) throws {
        guard styles.count == layerOrder.count else {
            throw EngineError(.invalidArgument, "\(styles.count) styles' Grams for \(layerOrder.count) layer lists")
        }
        var layers: [[Layer]] = []
        for (grams, names) in zip(styles, layerOrder) {
            layers.append(try names.map { name in
                guard let gram = grams[name] else { throw EngineError(.invalidArgument, "no Gram matrix for layer \(name)") }
                let channels = Int(Double(gram.count).squareRoot())
                guard channels * channels == gram.count, channels > 0 else {
                    throw EngineError(.invalidArgument, "the Gram matrix of \(name) has \(gram.count) samples, not C×C")
                }
                return Layer(name: name, channels: channels)
            })
        }
        self.styles = styles
        self.layers = layers
    }

    public func encoded() throws -> [UInt8] {
        let header = try JSONEncoder().encode(layers)
        var bytes = Self.magic
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { bytes += $0 }
        bytes += header
        for (grams, names) in zip(styles, layers) {
            for layer in names {
                for value in grams[layer.name]! { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
            }
        }
        return bytes
    }

    public static func decode(_ bytes: [UInt8], name: String) throws(EngineError) -> StyleTargetsFile {
        func corrupt(_ why: String) -> EngineError {
            EngineError(.invalidArgument, "style targets file \(name) is corrupt: \(why)")
        }
        guard bytes.count >= 12, Array(bytes[0..<8]) == magic else { throw corrupt("it does not start with SFGRAMS1") }
        let headerLength = Int(bytes[8..<12].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard headerLength <= maxHeaderBytes, 12 + headerLength <= bytes.count else { throw corrupt("header length \(headerLength)") }
        let layers: [[Layer]]
        do {
            layers = try JSONDecoder().decode([[Layer]].self, from: Data(bytes[12..<12 + headerLength]))
        } catch {
            throw corrupt("unreadable header (\(error))")
        }
        var offset = 12 + headerLength
        var styles: [[String: [Float]]] = []
        for list in layers {
            var grams: [String: [Float]] = [:]
            for layer in list {
                guard (1...maxChannels).contains(layer.channels) else { throw corrupt("layer \(layer.name) has \(layer.channels) channels") }
                let count = layer.channels * layer.channels
                guard offset + 4 * count <= bytes.count else { throw corrupt("it ends inside layer \(layer.name)") }
                var values = [Float](repeating: 0, count: count)
                for i in 0..<count {
                    let p = offset + 4 * i
                    let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
                    values[i] = Float(bitPattern: bits)
                    guard values[i].isFinite else { throw corrupt("layer \(layer.name) has a non-finite sample") }
                }
                offset += 4 * count
                grams[layer.name] = values
            }
            styles.append(grams)
        }
        guard offset == bytes.count else { throw corrupt("\(bytes.count - offset) bytes after the last matrix") }
        return StyleTargetsFile(styles: styles, layers: layers)
    }

    private init(styles: [[String: [Float]]], layers: [[Layer]]) {
        self.styles = styles
        self.layers = layers
    }
}
