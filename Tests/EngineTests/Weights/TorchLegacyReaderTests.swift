import Testing
@testable import Engine

@Suite struct TorchLegacyReaderTests {
    private let indices = LegacyTorchFixture.Tensor.uint8("layer_W_q", shape: [2, 3], values: [0, 1, 2, 3, 4, 255])
    private let table = LegacyTorchFixture.Tensor.float32("layer_W_table", shape: [4], values: [0.5, -1, 2.25, .pi])

    private func corruption(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let error = #expect(throws: EngineError.self, sourceLocation: sourceLocation) {
            _ = try TorchLegacyReader.read(bytes)
        }
        #expect(error?.code == .weightsCorrupt, sourceLocation: sourceLocation)
        return error?.message ?? ""
    }

    @Test func tensorsComeBackWithNameTypeShapeAndBytesInFileOrder() throws {
        let state = try TorchLegacyReader.read(LegacyTorchFixture([indices, table]).bytes)
        #expect(state.tensors.map(\.name) == ["layer_W_q", "layer_W_table"])
        let q = try #require(state["layer_W_q"])
        #expect(q.dtype == .uint8)
        #expect(q.shape == [2, 3])
        #expect(q.data == [0, 1, 2, 3, 4, 255])
        let t = try #require(state["layer_W_table"])
        #expect(t.dtype == .float32)
        #expect(t.shape == [4])
        #expect(try t.float32Values() == [0.5, -1, 2.25, .pi])
    }

    @Test func aTensorCanBeAnOffsetViewIntoItsStorage() throws {
        var view = LegacyTorchFixture.Tensor.float32("v", shape: [2], values: [1, 2, 3, 4])
        view.offset = 2
        let state = try TorchLegacyReader.read(LegacyTorchFixture([view]).bytes)
        #expect(try state["v"]?.float32Values() == [3, 4])
    }

    @Test func aStorageCountThatDisagreesWithTheStateDictIsCorrupt() {
        var fixture = LegacyTorchFixture([indices, table])
        fixture.writtenCounts[fixture.key(table)] = 5
        #expect(corruption(fixture.bytes).contains("holds 5 elements but the state dict declares 4"))
    }

    @Test func aDeclaredStorageLargerThanTheDataPresentIsTruncated() {
        var fixture = LegacyTorchFixture([indices, table])
        fixture.tensors[1].declaredCount = 1 << 30
        fixture.writtenCounts[fixture.key(table)] = 1 << 30
        #expect(corruption(fixture.bytes).contains("truncated"))
    }

    @Test func truncatedDataIsCorrupt() {
        let bytes = LegacyTorchFixture([indices, table]).bytes
        #expect(corruption(Array(bytes.dropLast(3))).contains("truncated"))
        #expect(corruption(Array(bytes.prefix(200))).contains("truncated"))
    }

    @Test func bytesAfterTheLastStorageAreCorrupt() {
        #expect(corruption(LegacyTorchFixture([indices]).bytes + [0]).contains("1 unexpected bytes"))
    }

    @Test func aTensorReachingPastItsStorageIsCorrupt() {
        var wide = indices
        wide.shape = [3, 3]
        #expect(corruption(LegacyTorchFixture([wide]).bytes).contains("needs elements 0..<9"))
    }

    @Test func nonContiguousStridesAreRefused() {
        var transposed = indices
        transposed.stride = [1, 2]
        #expect(corruption(LegacyTorchFixture([transposed]).bytes).contains("not C-contiguous"))
    }

    @Test func unsupportedStorageTypesAreNamed() {
        var half = table
        half.storageClass = "HalfStorage"
        #expect(corruption(LegacyTorchFixture([half]).bytes).contains("HalfStorage"))
    }

    @Test func otherFormatsAreRecognisedAndRefused() {
        #expect(corruption([0x50, 0x4B, 0x03, 0x04, 0, 0]).contains("zip-format"))
        #expect(corruption([0x80, 0x02, 0x4B, 0x01, 0x2E]).contains("magic number"))
    }
}
