/// Reads a legacy (pre-zip, torch < 1.6 or `_use_new_zipfile_serialization=False`) `torch.save`
/// stream holding a state dict, without torch and without executing anything.
///
/// Layout: five pickles — magic number, protocol version, sys info, the state dict, the list
/// of storage keys — then, per key in that list's order, an int64 element count and the raw
/// little-endian elements. Tensors in the state dict are
/// `torch._utils._rebuild_tensor_v2(pid, offset, size, stride, requires_grad, hooks)` with
/// `pid = ('storage', torch.XStorage, key, location, count, None)`.
enum TorchLegacyReader {
    /// 0x1950a86a20f9469cfc6c as pickle writes it (LONG1, little-endian).
    static let magicNumber: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let protocolVersion: Int64 = 1001

    private struct StorageRef {
        let key: String
        let dtype: TorchTensor.DType
        let count: Int
    }

    private struct TensorRef {
        let name: String
        let storage: StorageRef
        let offset: Int
        let shape: [Int]
    }

    static func read(_ bytes: [UInt8], name: String = "torch file") throws -> TorchStateDict {
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw EngineError(.weightsCorrupt, "\(name) is a zip-format torch.save file; only the legacy format is supported")
        }
        let context = "\(name) (legacy torch.save)"
        func corrupt(_ what: String) -> EngineError { EngineError(.weightsCorrupt, "\(context): \(what)") }

        var pickles = PickleReader(bytes, context: context)
        guard case .bigInt(let magic) = try pickles.readValue(), magic == magicNumber else {
            throw corrupt("does not start with the torch magic number; not a legacy torch.save file")
        }
        guard try pickles.readValue() == .int(protocolVersion) else {
            throw corrupt("unsupported torch serialization protocol (expected \(protocolVersion))")
        }
        let sysInfo = try pickles.readValue()
        guard let info = sysInfo.dictEntries,
              info.contains(where: { $0.key == .string("little_endian") && $0.value == .bool(true) }) else {
            throw corrupt("written on a big-endian machine or without sys info; unsupported")
        }
        let stateDict = try pickles.readValue()
        guard let entries = stateDict.dictEntries else {
            throw corrupt("the state dict is a \(stateDict.kind), expected a dict")
        }

        var tensors: [TensorRef] = []
        var storages: [String: StorageRef] = [:]
        for entry in entries {
            guard let name = entry.key.stringValue else {
                throw corrupt("state dict key \(entry.key) is not a string")
            }
            let tensor = try tensorReference(entry.value, name: name, corrupt: corrupt)
            if let known = storages[tensor.storage.key],
               known.dtype != tensor.storage.dtype || known.count != tensor.storage.count {
                throw corrupt("storage \(tensor.storage.key) is declared twice with different types or sizes")
            }
            storages[tensor.storage.key] = tensor.storage
            tensors.append(tensor)
        }

        guard case .list(let keyValues) = try pickles.readValue() else {
            throw corrupt("the storage key list is missing")
        }
        let keys = try keyValues.map { value in
            guard let key = value.stringValue else { throw corrupt("storage key \(value) is not a string") }
            return key
        }
        guard Set(keys).count == keys.count else { throw corrupt("the storage key list repeats a key") }
        guard Set(keys) == Set(storages.keys) else {
            throw corrupt("the storage key list does not match the storages the tensors use")
        }

        // The raw data: per key, an int64 element count and the elements.
        var cursor = ByteCursor(bytes, offset: pickles.offset, context: context)
        var dataStart: [String: Int] = [:]
        for key in keys {
            guard let storage = storages[key] else { continue }
            let count = try cursor.readInt64LE(for: "element count of storage \(key)")
            guard count == Int64(storage.count) else {
                throw corrupt("storage \(key) holds \(count) elements but the state dict declares \(storage.count)")
            }
            dataStart[key] = cursor.offset
            try cursor.skip(storage.count * storage.dtype.byteCount, for: "data of storage \(key) (\(storage.count) × \(storage.dtype))")
        }
        guard cursor.isAtEnd else {
            throw corrupt("\(cursor.remaining) unexpected bytes after the last storage")
        }

        return TorchStateDict(tensors: tensors.map { tensor in
            let size = tensor.storage.dtype.byteCount
            let start = (dataStart[tensor.storage.key] ?? 0) + tensor.offset * size
            let count = tensor.shape.reduce(1, *) * size
            return TorchTensor(name: tensor.name, dtype: tensor.storage.dtype, shape: tensor.shape,
                               data: Array(bytes[start..<(start + count)]))
        })
    }

    /// Checks one state-dict value is a rebuilt tensor over a storage, with C-contiguous strides
    /// that stay inside the storage.
    private static func tensorReference(
        _ value: PickleValue, name: String, corrupt: (String) -> EngineError
    ) throws -> TensorRef {
        guard case .call(let call) = value, case .global("torch._utils", let function) = call.callable else {
            throw corrupt("'\(name)' is a \(value.kind), not a tensor")
        }
        var arguments = call.arguments
        if function == "_rebuild_parameter" {
            // Parameter(tensor, requires_grad, hooks): unwrap to the tensor.
            guard case .call(let inner)? = arguments.first, case .global("torch._utils", "_rebuild_tensor_v2") = inner.callable else {
                throw corrupt("'\(name)' is a parameter without a tensor inside")
            }
            arguments = inner.arguments
        } else {
            guard function == "_rebuild_tensor_v2" || function == "_rebuild_tensor" else {
                throw corrupt("'\(name)' is built by torch._utils.\(function), which is not supported")
            }
        }
        guard arguments.count >= 4,
              case .persistentID(let pid) = arguments[0],
              let pidItems = pid.tupleItems,
              case .int(let offset64) = arguments[1],
              let sizeItems = arguments[2].tupleItems,
              let strideItems = arguments[3].tupleItems else {
            throw corrupt("'\(name)' has malformed tensor arguments")
        }
        guard pidItems.count >= 5,
              pidItems[0] == .string("storage"),
              case .global("torch", let storageClass) = pidItems[1],
              let key = pidItems[2].stringValue,
              case .int(let count64) = pidItems[4] else {
            throw corrupt("'\(name)' has a malformed storage id \(pid)")
        }
        guard pidItems.count == 5 || pidItems[5] == .none else {
            throw corrupt("'\(name)' is a storage view, which is not supported")
        }
        guard let dtype = TorchTensor.DType(storageClass: storageClass) else {
            throw corrupt("'\(name)' uses torch.\(storageClass), which is not supported")
        }
        // 2^40 elements is far beyond any file we read and keeps every product below overflow.
        let limit: Int64 = 1 << 40
        guard (0...limit).contains(count64), (0...limit).contains(offset64) else {
            throw corrupt("'\(name)' has an absurd storage size \(count64) or offset \(offset64)")
        }
        let shape = try sizeItems.map { item -> Int in
            guard case .int(let dimension) = item, (0...limit).contains(dimension) else {
                throw corrupt("'\(name)' has a malformed size \(arguments[2])")
            }
            return Int(dimension)
        }
        let strides = try strideItems.map { item -> Int in
            guard case .int(let stride) = item, (0...limit).contains(stride) else {
                throw corrupt("'\(name)' has a malformed stride \(arguments[3])")
            }
            return Int(stride)
        }
        guard strides.count == shape.count else {
            throw corrupt("'\(name)' has \(shape.count) sizes but \(strides.count) strides")
        }
        var elementCount = 1
        for dimension in shape {
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= limit else { throw corrupt("'\(name)' has an absurd size \(shape)") }
            elementCount = product
        }
        var expectedStride = 1
        for (dimension, stride) in zip(shape, strides).reversed() {
            guard dimension <= 1 || stride == expectedStride else {
                throw corrupt("'\(name)' is not C-contiguous (size \(shape), stride \(strides)); unsupported")
            }
            expectedStride *= dimension
        }
        let offset = Int(offset64), count = Int(count64)
        guard offset + elementCount <= count else {
            throw corrupt("'\(name)' needs elements \(offset)..<\(offset + elementCount) of storage \(key), which has \(count)")
        }
        return TensorRef(name: name, storage: StorageRef(key: key, dtype: dtype, count: count), offset: offset, shape: shape)
    }
}
