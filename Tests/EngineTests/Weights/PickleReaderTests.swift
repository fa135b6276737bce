import Testing
@testable import Engine

/// Hand-assembled pickles: one or two per opcode family, then malformed ones.
@Suite struct PickleReaderTests {
    // MARK: Helpers

    private func pickle(_ parts: [UInt8]...) -> [UInt8] {
        [0x80, 0x02] + parts.flatMap { $0 } + ascii(".")
    }

    private func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func binUnicode(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return ascii("X") + [UInt8(utf8.count), 0, 0, 0] + utf8
    }

    private func decode(_ bytes: [UInt8], limits: PickleReader.Limits = .default) throws -> PickleValue {
        var reader = PickleReader(bytes, limits: limits)
        return try reader.readValue()
    }

    /// The message of the `.weightsCorrupt` error that decoding throws.
    private func corruption(_ bytes: [UInt8], limits: PickleReader.Limits = .default,
                            sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let error = #expect(throws: EngineError.self, sourceLocation: sourceLocation) {
            _ = try decode(bytes, limits: limits)
        }
        #expect(error?.code == .weightsCorrupt, sourceLocation: sourceLocation)
        return error?.message ?? ""
    }

    // MARK: Scalars

    @Test func binaryIntegersDecodeWithTheirWidthAndSign() throws {
        #expect(try decode(pickle([0x4B, 0xFF])) == .int(255))                       // BININT1
        #expect(try decode(pickle([0x4D, 0xE9, 0x03])) == .int(1001))                // BININT2
        #expect(try decode(pickle([0x4A, 0xFE, 0xFF, 0xFF, 0xFF])) == .int(-2))      // BININT
    }

    @Test func long1DecodesSmallNegativeAndBeyond64BitIntegers() throws {
        #expect(try decode(pickle([0x8A, 0x00])) == .int(0))
        #expect(try decode(pickle([0x8A, 0x02, 0x00, 0xFF])) == .int(-256))
        #expect(try decode(pickle([0x8A, 0x09, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00])) == .int(Int64.max))
        // torch's magic number 0x1950a86a20f9469cfc6c does not fit in 64 bits.
        let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
        #expect(try decode(pickle([0x8A, 0x0A] + magic)) == .bigInt(magic))
        #expect(try decode(pickle([0x8B, 0x01, 0x00, 0x00, 0x00, 0x05])) == .int(5))  // LONG4
    }

    @Test func textIntegersAndBooleansDecodeLikePython() throws {
        #expect(try decode(pickle(ascii("I-42\n"))) == .int(-42))
        #expect(try decode(pickle(ascii("I01\n"))) == .bool(true))
        #expect(try decode(pickle(ascii("L7L\n"))) == .int(7))
        #expect(try decode(pickle([0x88])) == .bool(true))
        #expect(try decode(pickle([0x89])) == .bool(false))
        #expect(try decode(pickle(ascii("N"))) == .none)
    }

    @Test func floatsDecodeFromBigEndianBinaryAndText() throws {
        #expect(try decode(pickle(ascii("G") + [0x3F, 0xF8, 0, 0, 0, 0, 0, 0])) == .float(1.5))
        #expect(try decode(pickle(ascii("F-0.25\n"))) == .float(-0.25))
    }

    @Test func stringsAndBytesDecodeInEveryLengthEncoding() throws {
        #expect(try decode(pickle(binUnicode("cpu"))) == .string("cpu"))
        #expect(try decode(pickle([0x8C, 0x02] + ascii("é"))) == .string("é"))              // SHORT_BINUNICODE
        #expect(try decode(pickle(ascii("U") + [0x03] + ascii("abc"))) == .string("abc"))  // SHORT_BINSTRING
        #expect(try decode(pickle(ascii("T") + [0x01, 0, 0, 0] + ascii("z"))) == .string("z"))
        #expect(try decode(pickle(ascii("C") + [0x02, 0x00, 0xFF])) == .bytes([0x00, 0xFF]))
        #expect(try decode(pickle(ascii("B") + [0x01, 0, 0, 0, 0x07])) == .bytes([0x07]))
    }

    // MARK: Containers

    @Test func tuplesBuildFromMarksAndFixedSizeOpcodes() throws {
        #expect(try decode(pickle(ascii(")"))) == .tuple([]))
        #expect(try decode(pickle([0x4B, 1, 0x85])) == .tuple([.int(1)]))
        #expect(try decode(pickle([0x4B, 1, 0x4B, 2, 0x86])) == .tuple([.int(1), .int(2)]))
        #expect(try decode(pickle([0x4B, 1, 0x4B, 2, 0x4B, 3, 0x87])) == .tuple([.int(1), .int(2), .int(3)]))
        #expect(try decode(pickle(ascii("(K") + [1] + ascii("K") + [2] + ascii("t"))) == .tuple([.int(1), .int(2)]))
    }

    @Test func listsGrowByAppendAndAppends() throws {
        let bytes = pickle(ascii("]K") + [1] + ascii("a(K") + [2] + ascii("K") + [3] + ascii("e"))
        #expect(try decode(bytes) == .list([.int(1), .int(2), .int(3)]))
        #expect(try decode(pickle(ascii("(K") + [9] + ascii("l"))) == .list([.int(9)]))
    }

    @Test func dictsKeepInsertionOrderThroughSetitemAndSetitems() throws {
        let bytes = pickle(ascii("}") + binUnicode("b") + [0x4B, 2] + ascii("s(")
                           + binUnicode("a") + [0x4B, 1] + binUnicode("c") + [0x4B, 3] + ascii("u"))
        #expect(try decode(bytes) == .dict([
            .init(key: .string("b"), value: .int(2)),
            .init(key: .string("a"), value: .int(1)),
            .init(key: .string("c"), value: .int(3)),
        ]))
        #expect(try decode(pickle(ascii("(") + binUnicode("k") + ascii("Nd")))
                == .dict([.init(key: .string("k"), value: .none)]))
    }

    @Test func memoGetSeesMutationsMadeAfterPut() throws {
        // d = {}; memo[0] = d; d["x"] = 1; return (d, memo[0]) — both must show the item.
        let bytes = pickle(ascii("}q") + [0] + binUnicode("x") + [0x4B, 1] + ascii("sh") + [0] + [0x86])
        let dict = PickleValue.dict([.init(key: .string("x"), value: .int(1))])
        #expect(try decode(bytes) == .tuple([dict, dict]))
    }

    @Test func memoOpcodesOfEveryWidthStoreAndFetch() throws {
        let bytes = pickle([0x4B, 7] + ascii("r") + [1, 0, 0, 0] + ascii("0j") + [1, 0, 0, 0]
                           + ascii("p5\n0g5\n") + [0x94, 0x4B, 8, 0x94, 0x30, 0x68, 3, 0x86])
        // MEMOIZE stores at memo.count: 7 at key 2 (keys 1 and 5 exist), then 8 at key 3.
        #expect(try decode(bytes) == .tuple([.int(7), .int(8)]))
    }

    @Test func stackManipulationOpcodesBehaveLikePython() throws {
        #expect(try decode(pickle([0x4B, 1, 0x4B, 2, 0x30])) == .int(1))                  // POP
        #expect(try decode(pickle([0x4B, 1, 0x32, 0x86])) == .tuple([.int(1), .int(1)]))  // DUP
        #expect(try decode(pickle([0x4B, 1, 0x28, 0x4B, 2, 0x4B, 3, 0x31])) == .int(1))    // POP_MARK
    }

    // MARK: Objects

    @Test func globalsAndReduceAreRecordedNotExecuted() throws {
        let bytes = pickle(ascii("ccollections\nOrderedDict\n)R") + binUnicode("k") + [0x4B, 4] + ascii("s"))
        let value = try decode(bytes)
        var call = PickleValue.Call(callable: .global(module: "collections", name: "OrderedDict"), arguments: [])
        call.dictItems = [.init(key: .string("k"), value: .int(4))]
        #expect(value == .call(call))
        #expect(value.dictEntries == call.dictItems)
    }

    @Test func stackGlobalNewobjAndBuildProduceACallWithState() throws {
        let bytes = pickle(binUnicode("m") + binUnicode("C") + [0x93] + [0x4B, 1, 0x85, 0x81] + [0x4B, 2] + ascii("b"))
        var call = PickleValue.Call(callable: .global(module: "m", name: "C"), arguments: [.int(1)])
        call.state = .int(2)
        #expect(try decode(bytes) == .call(call))
    }

    @Test func persistentIdsAreHandedBackUnresolved() throws {
        #expect(try decode(pickle(binUnicode("key") + ascii("Q"))) == .persistentID(.string("key")))
        #expect(try decode(pickle(ascii("Pabc\n"))) == .persistentID(.string("abc")))
    }

    @Test func framesAreSkippedAndConsecutivePicklesReadInTurn() throws {
        let frame: [UInt8] = [0x80, 0x04, 0x95, 3, 0, 0, 0, 0, 0, 0, 0, 0x4B, 5, 0x2E]
        var reader = PickleReader(frame + pickle([0x4B, 6]))
        #expect(try reader.readValue() == .int(5))
        #expect(reader.offset == frame.count)
        #expect(try reader.readValue() == .int(6))
    }

    // MARK: Malformed input

    @Test func emptyInputIsTruncated() {
        #expect(corruption([]).contains("truncated"))
    }

    @Test func aMissingStopIsTruncated() {
        #expect(corruption([0x80, 0x02, 0x4B, 1]).contains("truncated"))
    }

    @Test func truncatedArgumentsAreReported() {
        #expect(corruption([0x80, 0x02, 0x4B]).contains("truncated"))
        #expect(corruption([0x80, 0x02, 0x4A, 1, 2]).contains("truncated"))
        #expect(corruption([0x80, 0x02] + ascii("X") + [0x10, 0, 0, 0] + ascii("abc")).contains("truncated"))
        #expect(corruption([0x80, 0x02] + ascii("ctorch")).contains("no terminating newline"))
    }

    @Test func absurdLengthsAreRefusedWithoutAllocating() {
        #expect(corruption([0x80, 0x02] + ascii("X") + [0xFF, 0xFF, 0xFF, 0xFF] + ascii(".")).contains("4294967295"))
        #expect(corruption([0x80, 0x02, 0x8B, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E]).contains("LONG4 length"))
        #expect(corruption([0x80, 0x02, 0x95, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x2E]).contains("frame"))
    }

    @Test func anUnknownOpcodeIsNamed() {
        let message = corruption([0x80, 0x02, 0xFF, 0x2E])
        #expect(message.contains("unknown opcode 0xff"))
        #expect(message.contains("byte 2"))
    }

    @Test func stackUnderflowIsReportedForEveryPoppingOpcode() {
        for opcode: UInt8 in [0x85, 0x86, 0x87, 0x52, 0x81, 0x61, 0x73, 0x62, 0x51, 0x30, 0x32, 0x71] {
            let message = corruption([0x80, 0x02, opcode, 0, 0x2E])
            #expect(message.contains("underflow"), "opcode 0x\(String(opcode, radix: 16)): \(message)")
        }
    }

    @Test func poppingAcrossAMarkIsUnderflow() {
        #expect(corruption(pickle([0x4B, 1, 0x28, 0x85, 0x31])).contains("underflow"))
    }

    @Test func markedOpcodesWithoutAMarkAreRefused() {
        #expect(corruption(pickle([0x4B, 1] + ascii("t"))).contains("no MARK"))
        #expect(corruption(pickle(ascii("]K") + [1] + ascii("e"))).contains("no MARK"))
    }

    @Test func stopWithLeftoverValuesOrAnOpenMarkIsRefused() {
        #expect(corruption(pickle([0x4B, 1, 0x4B, 2])).contains("2 values left"))
        #expect(corruption(pickle([0x4B, 1, 0x28])).contains("unclosed MARK"))
    }

    @Test func wrongOperandTypesAreRefused() {
        #expect(corruption(pickle(ascii("N") + [0x4B, 1, 0x52])).contains("arguments must be a tuple"))
        #expect(corruption(pickle([0x4B, 1, 0x4B, 2, 0x61])).contains("cannot append to int"))
        #expect(corruption(pickle(ascii("}(K") + [1] + ascii("u"))).contains("odd number"))
        #expect(corruption(pickle([0x4B, 1, 0x4B, 2, 0x93])).contains("must be a str"))
        #expect(corruption(pickle(ascii("h") + [3])).contains("memo key 3"))
        #expect(corruption(pickle(ascii("X") + [1, 0, 0, 0, 0xFF])).contains("UTF-8"))
        #expect(corruption([0x80, 0x06, 0x4B, 1, 0x2E]).contains("protocol 6"))
    }

    @Test func aListContainingItselfIsACycle() {
        #expect(corruption(pickle(ascii("]q") + [0] + ascii("h") + [0] + ascii("a"))).contains("cycle"))
    }

    @Test func exponentiallySharedTuplesHitTheNodeBudget() {
        // t = (); 40 times: t = (t, t). Tiny in memory, 2^40 nodes as a tree.
        var body: [UInt8] = ascii(")q") + [0]
        for _ in 0..<40 {
            body += [0x30, 0x68, 0, 0x68, 0, 0x86, 0x71, 0]
        }
        #expect(corruption(pickle(body)).contains("nodes"))
    }

    @Test func deepNestingIsRefused() {
        let body = [UInt8](repeating: 0x5D, count: 100) + [UInt8](repeating: 0x61, count: 99)
        #expect(corruption(pickle(body)).contains("nested deeper"))
    }

    @Test func theMemoAndStackAreBounded() {
        var limits = PickleReader.Limits()
        limits.maxMemoEntries = 2
        #expect(corruption(pickle([0x4B, 1, 0x71, 0, 0x71, 1, 0x71, 2]), limits: limits).contains("memo larger"))
        limits.maxStackDepth = 3
        #expect(corruption(pickle([0x4B, 1, 0x32, 0x32, 0x32]), limits: limits).contains("stack deeper"))
    }
}
