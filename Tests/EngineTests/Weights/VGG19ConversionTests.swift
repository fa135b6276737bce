import Testing
@testable import Engine

/// Conversion errors on tiny synthetic torch files: each must name the layer that is wrong.
@Suite struct VGG19ConversionTests {
    private func block1Conv1(indices: [UInt8]? = nil, shape: [Int] = [64, 3, 3, 3],
                             table: [Float]? = nil) -> [LegacyTorchFixture.Tensor] {
        let count = shape.reduce(1, *)
        return [
            .uint8("block1_conv1_W_q", shape: shape, values: indices ?? [UInt8](repeating: 1, count: count)),
            .float32("block1_conv1_W_table", shape: [256], values: table ?? (0..<256).map { Float($0) / 256 }),
            .float32("block1_conv1_b", shape: [64], values: [Float](repeating: 0.5, count: 64)),
        ]
    }

    private func conversionError(_ tensors: [LegacyTorchFixture.Tensor],
                                 sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let error = #expect(throws: EngineError.self, sourceLocation: sourceLocation) {
            _ = try VGG19Weights(dequantizingLegacyTorchFile: LegacyTorchFixture(tensors).bytes)
        }
        #expect(error?.code == .weightsCorrupt, sourceLocation: sourceLocation)
        return error?.message ?? ""
    }

    @Test func aWrongWeightShapeNamesTheLayer() {
        let message = conversionError(block1Conv1(shape: [64, 3, 3, 2]))
        #expect(message.contains("block1_conv1"))
        #expect(message.contains("[64, 3, 3, 2]"))
    }

    @Test func aMissingLayerIsNamed() {
        // block1_conv1 is complete and valid; block1_conv2 is the first one absent.
        #expect(conversionError(block1Conv1()).contains("layer block1_conv2 is missing"))
    }

    @Test func aNaNWeightNamesTheLayer() {
        var table = (0..<256).map { Float($0) }
        table[1] = .nan
        let message = conversionError(block1Conv1(table: table))
        #expect(message.contains("block1_conv1"))
        #expect(message.contains("non-finite weight"))
    }

    @Test func anInfiniteBiasNamesTheLayer() {
        var tensors = block1Conv1()
        tensors[2] = .float32("block1_conv1_b", shape: [64], values: [Float](repeating: 0, count: 63) + [.infinity])
        let message = conversionError(tensors)
        #expect(message.contains("block1_conv1 has a non-finite bias"))
    }

    @Test func aTableOfTheWrongTypeNamesTheLayer() {
        var tensors = block1Conv1()
        tensors[1] = .uint8("block1_conv1_W_table", shape: [256], values: [UInt8](repeating: 0, count: 256))
        #expect(conversionError(tensors).contains("'block1_conv1_W_table' is uint8"))
    }
}
