/// A minimal, safe pickle virtual machine.
///
/// It understands the opcodes that `torch.save` (protocol 2) emits, plus the common protocol
/// 0–4 ones around them, and produces `PickleValue`s. Nothing is imported or executed: GLOBAL
/// becomes `.global`, REDUCE / NEWOBJ become `.call`, persistent ids are handed back as they are.
///
/// Everything that comes from the stream is checked: unknown opcodes, stack underflow, a
/// missing MARK, truncated arguments, lengths beyond the data, oversized memos, cycles and
/// exponentially shared structures all throw `EngineError(.weightsCorrupt)`; nothing traps.
struct PickleReader {
    struct Limits: Sendable {
        /// Memo entries (PUT / BINPUT / MEMOIZE); torch state dicts use a few hundred.
        var maxMemoEntries = 1 << 20
        /// Items on the stack plus open MARKs.
        var maxStackDepth = 1 << 20
        /// Nesting depth of the decoded value.
        var maxNestingDepth = 64
        /// Nodes in the decoded value counted as a tree (shared references count every time).
        var maxValueNodes = 1 << 20
        /// Bytes in one LONG1 / LONG4 integer.
        var maxIntegerBytes = 64
        /// Bytes in one protocol-0 text argument (GLOBAL, INT, PUT, …).
        var maxLineLength = 4096

        static let `default` = Limits()
    }

    private var cursor: ByteCursor
    private let limits: Limits

    /// Reads pickles from `bytes`, starting at `offset`.
    init(_ bytes: [UInt8], offset: Int = 0, limits: Limits = .default, context: String = "pickle stream") {
        cursor = ByteCursor(bytes, offset: offset, context: context)
        self.limits = limits
    }

    /// The byte just after the last pickle read (its STOP opcode).
    var offset: Int { cursor.offset }

    /// Reads one complete pickle, up to and including its STOP opcode.
    mutating func readValue() throws -> PickleValue {
        var machine = Machine(limits: limits)
        let root = try machine.run(&cursor)
        var freezer = Freezer(limits: limits, context: cursor.context)
        return try freezer.freeze(root, depth: 0)
    }
}

// MARK: - Opcodes

private enum Opcode: UInt8 {
    case mark = 0x28            // (
    case stop = 0x2E            // .
    case pop = 0x30             // 0
    case popMark = 0x31         // 1
    case dup = 0x32             // 2
    case float = 0x46           // F
    case int = 0x49             // I
    case binInt = 0x4A          // J
    case binInt1 = 0x4B         // K
    case long = 0x4C            // L
    case binInt2 = 0x4D         // M
    case none = 0x4E            // N
    case persID = 0x50          // P
    case binPersID = 0x51       // Q
    case reduce = 0x52          // R
    case binString = 0x54       // T
    case shortBinString = 0x55  // U
    case binUnicode = 0x58      // X
    case append = 0x61          // a
    case build = 0x62           // b
    case global = 0x63          // c
    case dict = 0x64            // d
    case emptyDict = 0x7D       // }
    case appends = 0x65         // e
    case get = 0x67             // g
    case binGet = 0x68          // h
    case longBinGet = 0x6A      // j
    case list = 0x6C            // l
    case emptyList = 0x5D       // ]
    case put = 0x70             // p
    case binPut = 0x71          // q
    case longBinPut = 0x72      // r
    case setItem = 0x73         // s
    case tuple = 0x74           // t
    case emptyTuple = 0x29      // )
    case setItems = 0x75        // u
    case binFloat = 0x47        // G
    // Protocol 2
    case proto = 0x80
    case newObj = 0x81
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case newTrue = 0x88
    case newFalse = 0x89
    case long1 = 0x8A
    case long4 = 0x8B
    // Protocol 3 and 4
    case binBytes = 0x42        // B
    case shortBinBytes = 0x43   // C
    case shortBinUnicode = 0x8C
    case stackGlobal = 0x93
    case memoize = 0x94
    case frame = 0x95
}

// MARK: - The machine

/// A value while the machine runs. Lists, dicts and call results are boxes, because pickle
/// mutates them after they were memoized (EMPTY_DICT, BINPUT, …, SETITEMS) and a later GET must
/// see those changes.
private indirect enum Node {
    case value(PickleValue)
    case tuple([Node])
    case persistentID(Node)
    case list(ListBox)
    case dict(DictBox)
    case call(CallBox)

    var kind: String {
        switch self {
        case .value(let value): value.kind
        case .tuple: "tuple"
        case .persistentID: "persistent id"
        case .list: "list"
        case .dict: "dict"
        case .call: "call"
        }
    }
}

private final class ListBox {
    var items: [Node] = []
}

private final class DictBox {
    var entries: [(key: Node, value: Node)] = []
}

private final class CallBox {
    let callable: Node
    let arguments: [Node]
    var dictItems: [(key: Node, value: Node)] = []
    var listItems: [Node] = []
    var state: Node?

    init(callable: Node, arguments: [Node]) {
        self.callable = callable
        self.arguments = arguments
    }
}

private struct Machine {
    let limits: Limits
    var stack: [Node] = []
    var marks: [Int] = []
    var memo: [UInt32: Node] = [:]

    typealias Limits = PickleReader.Limits

    init(limits: Limits) {
        self.limits = limits
    }

    mutating func run(_ cursor: inout ByteCursor) throws -> Node {
        while true {
            let position = cursor.offset
            let byte = try cursor.readUInt8(for: "opcode")
            guard let opcode = Opcode(rawValue: byte) else {
                throw cursor.corrupt("unknown opcode 0x\(String(byte, radix: 16)) (\(describe(byte)))", at: position)
            }
            do {
                if let result = try step(opcode, &cursor) {
                    return result
                }
            } catch let error as MachineError {
                throw cursor.corrupt("\(opcode): \(error.message)", at: position)
            }
        }
    }

    struct MachineError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    // MARK: Stack helpers

    mutating func push(_ node: Node) throws {
        guard stack.count + marks.count < limits.maxStackDepth else {
            throw MachineError("stack deeper than \(limits.maxStackDepth) entries")
        }
        stack.append(node)
    }

    mutating func pop() throws -> Node {
        guard let top = stack.popLast() else { throw MachineError("stack underflow") }
        if let mark = marks.last, stack.count < mark {
            throw MachineError("stack underflow (popped past a MARK)")
        }
        return top
    }

    /// Pops everything above the most recent MARK, and the MARK.
    mutating func popToMark() throws -> [Node] {
        guard let mark = marks.popLast() else { throw MachineError("no MARK on the stack") }
        guard mark <= stack.count else { throw MachineError("stack underflow below MARK") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    func top() throws -> Node {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else {
            throw MachineError("stack underflow")
        }
        return top
    }

    mutating func memoize(_ key: UInt32, _ node: Node) throws {
        if memo[key] == nil, memo.count >= limits.maxMemoEntries {
            throw MachineError("memo larger than \(limits.maxMemoEntries) entries")
        }
        memo[key] = node
    }

    func memoGet(_ key: UInt32) throws -> Node {
        guard let node = memo[key] else { throw MachineError("memo key \(key) was never stored") }
        return node
    }

    func string(_ node: Node, for what: String) throws -> String {
        guard case .value(.string(let string)) = node else {
            throw MachineError("\(what) must be a str, found \(node.kind)")
        }
        return string
    }

    // MARK: Execution

    /// Executes one opcode; returns the result at STOP.
    mutating func step(_ opcode: Opcode, _ cursor: inout ByteCursor) throws -> Node? {
        switch opcode {
        case .proto:
            let version = try cursor.readUInt8(for: "protocol version")
            guard version <= 5 else { throw MachineError("unsupported pickle protocol \(version)") }
        case .frame:
            let length = try cursor.readUInt64LE(for: "frame length")
            guard length <= UInt64(cursor.remaining) else {
                throw MachineError("frame of \(length) bytes but only \(cursor.remaining) remain")
            }
        case .stop:
            guard marks.isEmpty else { throw MachineError("STOP with an unclosed MARK") }
            guard stack.count == 1, let result = stack.first else {
                throw MachineError(stack.isEmpty ? "stack underflow" : "\(stack.count) values left on the stack")
            }
            return result

        case .mark:
            guard stack.count + marks.count < limits.maxStackDepth else {
                throw MachineError("stack deeper than \(limits.maxStackDepth) entries")
            }
            marks.append(stack.count)
        case .pop:
            if let mark = marks.last, mark == stack.count {
                marks.removeLast() // Python pops a MARK here too.
            } else {
                _ = try pop()
            }
        case .popMark:
            _ = try popToMark()
        case .dup:
            try push(try top())

        case .none:
            try push(.value(.none))
        case .newTrue:
            try push(.value(.bool(true)))
        case .newFalse:
            try push(.value(.bool(false)))
        case .binInt:
            try push(.value(.int(Int64(try cursor.readInt32LE(for: "BININT")))))
        case .binInt1:
            try push(.value(.int(Int64(try cursor.readUInt8(for: "BININT1")))))
        case .binInt2:
            try push(.value(.int(Int64(try cursor.readUInt16LE(for: "BININT2")))))
        case .long1:
            let count = Int(try cursor.readUInt8(for: "LONG1 length"))
            try push(.value(try integer(try cursor.readBytes(count, for: "LONG1 value"))))
        case .long4:
            let count = Int(try cursor.readInt32LE(for: "LONG4 length"))
            guard count >= 0, count <= limits.maxIntegerBytes else {
                throw MachineError("LONG4 length \(count) outside 0…\(limits.maxIntegerBytes)")
            }
            try push(.value(try integer(try cursor.readBytes(count, for: "LONG4 value"))))
        case .int:
            let text = try line(&cursor, for: "INT")
            switch text {
            case "01": try push(.value(.bool(true)))
            case "00": try push(.value(.bool(false)))
            default:
                guard let value = Int64(text) else { throw MachineError("'\(text)' is not an integer") }
                try push(.value(.int(value)))
            }
        case .long:
            var text = try line(&cursor, for: "LONG")
            if text.hasSuffix("L") { text.removeLast() }
            guard let value = Int64(text) else {
                throw MachineError("'\(text)' is not an integer in the 64-bit range")
            }
            try push(.value(.int(value)))
        case .binFloat:
            try push(.value(.float(try cursor.readFloat64BE(for: "BINFLOAT"))))
        case .float:
            let text = try line(&cursor, for: "FLOAT")
            guard let value = Double(text) else { throw MachineError("'\(text)' is not a float") }
            try push(.value(.float(value)))

        case .binUnicode:
            let count = Int(try cursor.readUInt32LE(for: "BINUNICODE length"))
            try push(.value(.string(try utf8(try cursor.readBytes(count, for: "BINUNICODE text")))))
        case .shortBinUnicode:
            let count = Int(try cursor.readUInt8(for: "SHORT_BINUNICODE length"))
            try push(.value(.string(try utf8(try cursor.readBytes(count, for: "SHORT_BINUNICODE text")))))
        case .binString:
            // Python 2 `str`: bytes, decoded as ASCII/UTF-8 when possible (torch keys and names).
            let count = Int(try cursor.readInt32LE(for: "BINSTRING length"))
            guard count >= 0 else { throw MachineError("negative BINSTRING length \(count)") }
            try push(.value(legacyString(try cursor.readBytes(count, for: "BINSTRING text"))))
        case .shortBinString:
            let count = Int(try cursor.readUInt8(for: "SHORT_BINSTRING length"))
            try push(.value(legacyString(try cursor.readBytes(count, for: "SHORT_BINSTRING text"))))
        case .binBytes:
            let count = Int(try cursor.readUInt32LE(for: "BINBYTES length"))
            try push(.value(.bytes(Array(try cursor.readBytes(count, for: "BINBYTES data")))))
        case .shortBinBytes:
            let count = Int(try cursor.readUInt8(for: "SHORT_BINBYTES length"))
            try push(.value(.bytes(Array(try cursor.readBytes(count, for: "SHORT_BINBYTES data")))))

        case .emptyTuple:
            try push(.tuple([]))
        case .tuple:
            try push(.tuple(try popToMark()))
        case .tuple1:
            let first = try pop()
            try push(.tuple([first]))
        case .tuple2:
            let second = try pop(), first = try pop()
            try push(.tuple([first, second]))
        case .tuple3:
            let third = try pop(), second = try pop(), first = try pop()
            try push(.tuple([first, second, third]))

        case .emptyList:
            try push(.list(ListBox()))
        case .list:
            let box = ListBox()
            box.items = try popToMark()
            try push(.list(box))
        case .append:
            let item = try pop()
            try append([item], to: try top())
        case .appends:
            let items = try popToMark()
            try append(items, to: try top())

        case .emptyDict:
            try push(.dict(DictBox()))
        case .dict:
            let items = try popToMark()
            let box = DictBox()
            try setItems(items, on: .dict(box))
            try push(.dict(box))
        case .setItem:
            let value = try pop(), key = try pop()
            try setItems([key, value], on: try top())
        case .setItems:
            let items = try popToMark()
            try setItems(items, on: try top())

        case .global:
            let module = try line(&cursor, for: "GLOBAL module")
            let name = try line(&cursor, for: "GLOBAL name")
            try push(.value(.global(module: module, name: name)))
        case .stackGlobal:
            let name = try string(try pop(), for: "STACK_GLOBAL name")
            let module = try string(try pop(), for: "STACK_GLOBAL module")
            try push(.value(.global(module: module, name: name)))
        case .reduce:
            let arguments = try pop(), callable = try pop()
            guard case .tuple(let items) = arguments else {
                throw MachineError("arguments must be a tuple, found \(arguments.kind)")
            }
            try push(.call(CallBox(callable: callable, arguments: items)))
        case .newObj:
            let arguments = try pop(), cls = try pop()
            guard case .tuple(let items) = arguments else {
                throw MachineError("arguments must be a tuple, found \(arguments.kind)")
            }
            try push(.call(CallBox(callable: cls, arguments: items)))
        case .build:
            let state = try pop()
            guard case .call(let box) = try top() else {
                throw MachineError("can only set state on a call result, found \(try top().kind)")
            }
            box.state = state
        case .binPersID:
            try push(.persistentID(try pop()))
        case .persID:
            try push(.persistentID(.value(.string(try line(&cursor, for: "PERSID")))))

        case .put:
            let text = try line(&cursor, for: "PUT")
            guard let key = UInt32(text) else { throw MachineError("'\(text)' is not a memo key") }
            try memoize(key, try top())
        case .binPut:
            try memoize(UInt32(try cursor.readUInt8(for: "BINPUT key")), try top())
        case .longBinPut:
            try memoize(try cursor.readUInt32LE(for: "LONG_BINPUT key"), try top())
        case .memoize:
            guard memo.count < UInt32.max else { throw MachineError("memo full") }
            try memoize(UInt32(memo.count), try top())
        case .get:
            let text = try line(&cursor, for: "GET")
            guard let key = UInt32(text) else { throw MachineError("'\(text)' is not a memo key") }
            try push(try memoGet(key))
        case .binGet:
            try push(try memoGet(UInt32(try cursor.readUInt8(for: "BINGET key"))))
        case .longBinGet:
            try push(try memoGet(try cursor.readUInt32LE(for: "LONG_BINGET key")))
        }
        return nil
    }

    // MARK: Container mutation

    func append(_ items: [Node], to target: Node) throws {
        switch target {
        case .list(let box): box.items.append(contentsOf: items)
        case .call(let box): box.listItems.append(contentsOf: items)
        default: throw MachineError("cannot append to \(target.kind)")
        }
    }

    func setItems(_ items: [Node], on target: Node) throws {
        guard items.count % 2 == 0 else { throw MachineError("odd number of items (\(items.count)) for key/value pairs") }
        var pairs: [(key: Node, value: Node)] = []
        pairs.reserveCapacity(items.count / 2)
        for index in stride(from: 0, to: items.count, by: 2) {
            pairs.append((items[index], items[index + 1]))
        }
        switch target {
        case .dict(let box): box.entries.append(contentsOf: pairs)
        case .call(let box): box.dictItems.append(contentsOf: pairs)
        default: throw MachineError("cannot set items on \(target.kind)")
        }
    }

    // MARK: Argument decoding

    func line(_ cursor: inout ByteCursor, for what: String) throws -> String {
        let bytes = try cursor.readLine(maxLength: limits.maxLineLength, for: what)
        var text = try utf8(bytes)
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    func utf8(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw MachineError("text is not valid UTF-8")
        }
        return string
    }

    func legacyString(_ bytes: ArraySlice<UInt8>) -> PickleValue {
        if let string = String(validating: bytes, as: UTF8.self) { return .string(string) }
        return .bytes(Array(bytes))
    }

    /// LONG1 / LONG4: little-endian two's complement of any length.
    func integer(_ bytes: ArraySlice<UInt8>) throws -> PickleValue {
        guard bytes.count <= limits.maxIntegerBytes else {
            throw MachineError("integer of \(bytes.count) bytes exceeds \(limits.maxIntegerBytes)")
        }
        var minimal = Array(bytes)
        // Drop redundant sign-extension bytes.
        while minimal.count > 1 {
            let last = minimal[minimal.count - 1], previous = minimal[minimal.count - 2]
            if (last == 0x00 && previous & 0x80 == 0) || (last == 0xFF && previous & 0x80 != 0) {
                minimal.removeLast()
            } else {
                break
            }
        }
        guard let last = minimal.last else { return .int(0) }
        guard minimal.count <= 8 else { return .bigInt(minimal) }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for byte in minimal.reversed() {
            value = value << 8 | UInt64(byte)
        }
        return .int(Int64(bitPattern: value))
    }

    func describe(_ byte: UInt8) -> String {
        (0x20...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "not printable"
    }
}

// MARK: - Freezing boxes into values

/// Turns the machine's boxes into immutable `PickleValue`s, refusing cycles, deep nesting, and
/// shared structure that would expand beyond the node budget.
private struct Freezer {
    let limits: PickleReader.Limits
    let context: String
    var nodes = 0
    var inProgress: Set<ObjectIdentifier> = []

    init(limits: PickleReader.Limits, context: String) {
        self.limits = limits
        self.context = context
    }

    func corrupt(_ what: String) -> EngineError {
        EngineError(.weightsCorrupt, "\(context) is malformed: \(what)")
    }

    mutating func freeze(_ node: Node, depth: Int) throws -> PickleValue {
        nodes += 1
        guard nodes <= limits.maxValueNodes else {
            throw corrupt("value has more than \(limits.maxValueNodes) nodes")
        }
        guard depth <= limits.maxNestingDepth else {
            throw corrupt("value nested deeper than \(limits.maxNestingDepth) levels")
        }
        switch node {
        case .value(let value):
            return value
        case .tuple(let items):
            return .tuple(try items.map { try freeze($0, depth: depth + 1) })
        case .persistentID(let id):
            return .persistentID(try freeze(id, depth: depth + 1))
        case .list(let box):
            return try guarding(box) { freezer in
                .list(try box.items.map { try freezer.freeze($0, depth: depth + 1) })
            }
        case .dict(let box):
            return try guarding(box) { freezer in
                .dict(try freezer.entries(box.entries, depth: depth + 1))
            }
        case .call(let box):
            return try guarding(box) { freezer in
                var call = PickleValue.Call(
                    callable: try freezer.freeze(box.callable, depth: depth + 1),
                    arguments: try box.arguments.map { try freezer.freeze($0, depth: depth + 1) }
                )
                call.dictItems = try freezer.entries(box.dictItems, depth: depth + 1)
                call.listItems = try box.listItems.map { try freezer.freeze($0, depth: depth + 1) }
                call.state = try box.state.map { try freezer.freeze($0, depth: depth + 1) }
                return .call(call)
            }
        }
    }

    mutating func entries(_ pairs: [(key: Node, value: Node)], depth: Int) throws -> [PickleValue.Entry] {
        try pairs.map { .init(key: try freeze($0.key, depth: depth), value: try freeze($0.value, depth: depth)) }
    }

    /// Runs `body` with `box` marked as being frozen, so that a box reached from itself is a cycle.
    mutating func guarding(_ box: AnyObject, _ body: (inout Freezer) throws -> PickleValue) throws -> PickleValue {
        let id = ObjectIdentifier(box)
        guard inProgress.insert(id).inserted else { throw corrupt("value contains itself (a reference cycle)") }
        defer { inProgress.remove(id) }
        return try body(&self)
    }
}
