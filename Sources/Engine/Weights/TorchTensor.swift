/// One tensor read from a torch file: its element type, shape and contiguous little-endian bytes.
struct TorchTensor: Sendable, Equatable {
    enum DType: String, Sendable {
        case uint8, int8, int16, int32, int64, float32, float64

        var byteCount: Int {
            switch self {
            case .uint8, .int8: 1
            case .int16: 2
            case .int32, .float32: 4
            case .int64, .float64: 8
            }
        }

        /// The legacy storage class name (`torch.FloatStorage`) for each element type.
        init?(storageClass: String) {
            switch storageClass {
            case "ByteStorage": self = .uint8
            case "CharStorage": self = .int8
            case "ShortStorage": self = .int16
            case "IntStorage": self = .int32
            case "LongStorage": self = .int64
            case "FloatStorage": self = .float32
            case "DoubleStorage": self = .float64
            default: return nil
            }
        }
    }

    let name: String
    let dtype: DType
    let shape: [Int]
    /// `elementCount * dtype.byteCount` bytes, C-contiguous, little-endian.
    let data: [UInt8]

    var elementCount: Int { shape.reduce(1, *) }

    /// The values of a float32 tensor.
    func float32Values() throws -> [Float] {
        guard dtype == .float32 else {
            throw EngineError(.weightsCorrupt, "tensor '\(name)' is \(dtype), expected float32")
        }
        return LittleEndianFloats.decode(data[...])
    }
}

/// The tensors of a state dict, in the order the file lists them.
struct TorchStateDict: Sendable {
    let tensors: [TorchTensor]
    private let index: [String: Int]

    init(tensors: [TorchTensor]) {
        self.tensors = tensors
        var index: [String: Int] = [:]
        for (position, tensor) in tensors.enumerated() { index[tensor.name] = position }
        self.index = index
    }

    subscript(name: String) -> TorchTensor? {
        index[name].map { tensors[$0] }
    }
}
