/// A value decoded by `PickleReader`: the small part of Python's object model that
/// `torch.save` streams use. Nothing is ever executed; calls are recorded, not made.
indirect enum PickleValue: Sendable, Equatable, CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer outside `Int64`, as minimal little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    /// A `dict`, in insertion order.
    case dict([Entry])
    /// A reference to `module.name` (GLOBAL / STACK_GLOBAL), never imported.
    case global(module: String, name: String)
    /// A persistent id (PERSID / BINPERSID), left for the caller to resolve.
    case persistentID(PickleValue)
    /// The result of REDUCE or NEWOBJ, with whatever SETITEMS / APPENDS / BUILD added to it.
    case call(Call)

    struct Entry: Sendable, Equatable {
        let key: PickleValue
        let value: PickleValue
    }

    struct Call: Sendable, Equatable {
        let callable: PickleValue
        let arguments: [PickleValue]
        var dictItems: [Entry] = []
        var listItems: [PickleValue] = []
        var state: PickleValue? = nil
    }

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    var tupleItems: [PickleValue]? {
        if case .tuple(let items) = self { return items }
        return nil
    }

    /// Entries of a plain `dict` or of a `collections.OrderedDict()` call.
    var dictEntries: [Entry]? {
        switch self {
        case .dict(let entries):
            return entries
        case .call(let call) where call.callable == .global(module: "collections", name: "OrderedDict"):
            return call.dictItems
        default:
            return nil
        }
    }

    /// The kind of value, for error messages ("expected a tuple, found dict").
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let module, let name): "global \(module).\(name)"
        case .persistentID: "persistent id"
        case .call: "call"
        }
    }

    var description: String {
        switch self {
        case .none: return "None"
        case .bool(let value): return value ? "True" : "False"
        case .int(let value): return String(value)
        case .bigInt(let bytes): return "int(0x" + bytes.reversed().map { hex($0) }.joined() + ")"
        case .float(let value): return String(value)
        case .string(let value): return "'\(value)'"
        case .bytes(let value): return "b<\(value.count) bytes>"
        case .tuple(let items):
            return "(" + items.map(\.description).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .dict(let entries):
            return "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .global(let module, let name): return "\(module).\(name)"
        case .persistentID(let id): return "pid\(id)"
        case .call(let call):
            return "\(call.callable)(" + call.arguments.map(\.description).joined(separator: ", ") + ")"
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
