import Testing
import TestSupport
@testable import Engine

struct ReceptiveFieldTests {
    /// Sizes by hand from the architecture: each 3×3 convolution adds its input stride to both
    /// sides, each 2×2 pooling doubles the stride (and its window adds one stride).
    @Test(arguments: [
        ("block1_conv1", 3, 1, 1), ("block1_relu2", 5, 1, 2), ("block1_pool", 6, 2, 2),
        ("block2_relu1", 10, 2, 4), ("block2_pool", 16, 4, 6), ("block3_relu1", 24, 4, 10),
        ("block3_relu4", 48, 4, 22), ("block4_relu1", 68, 8, 30), ("block4_relu2", 84, 8, 38),
        ("block4_pool", 124, 16, 54), ("block5_relu1", 156, 16, 70), ("block5_conv4", 252, 16, 118),
        ("block5_pool", 268, 32, 118),
    ])
    func eachLayerSeesItsCellGrownByItsMargin(layer: String, size: Int, stride: Int, margin: Int) throws {
        let field = try VGG19Architecture.receptiveField(of: layer)
        #expect(field == ReceptiveField(stride: stride, margin: margin))
        #expect(field.size == size)
    }

    @Test func halosAndStrideComeFromTheDeepestLayer() throws {
        let pastiche = (1...5).map { "block\($0)_relu1" } + ["block4_relu2"]
        #expect(try VGG19Architecture.totalStride(for: pastiche) == 16)
        #expect(try VGG19Architecture.forwardHalo(for: pastiche) == 70)
        #expect(try VGG19Architecture.exactHalo(for: pastiche) == 155)
        #expect(try VGG19Architecture.exactHalo(for: ["block1_relu1", "block2_relu1"]) == 9)
        #expect(try VGG19Architecture.forwardHalo(for: ["block1_relu1", "block2_relu1"]) == 4)
        #expect(throws: EngineError.self) { try VGG19Architecture.receptiveField(of: "block6_relu1") }
    }

    /// Measured: change one pixel and see which activations move. With random weights and
    /// average pooling no path is cut by chance, so the moved activations are exactly those whose
    /// cell lies within the margin of the pixel.
    @Test(arguments: ["block1_conv2", "block1_pool", "block2_conv1", "block2_conv2"])
    func theComputedFieldIsWhatTheNetworkReallySees(layer: String) throws {
        let network = try ObjectiveGradientTests.smallNetwork()
        let (h, w) = (24, 24)
        let graph = try FeatureGraph(network: network, pooling: .avg, height: h, width: w, taps: [layer])
        let base = ObjectiveGradientTests.image(7, height: h, width: w)
        var moved = base
        let (py, px) = (11, 12)
        for c in 0..<3 { moved[c, py, px] += 50 }
        func activations(_ t: Tensor) -> ([Float], FeatureGraph.Shape) {
            t.withUnsafeBufferPointer { graph.forward($0.baseAddress!) }
            let (p, shape) = graph.activation(layer)
            return (Array(UnsafeBufferPointer(start: p, count: shape.count)), shape)
        }
        let (a, shape) = activations(base)
        let (b, _) = activations(moved)
        let field = try VGG19Architecture.receptiveField(of: layer)
        for y in 0..<shape.height {
            for x in 0..<shape.width {
                var changed = false
                for c in 0..<shape.channels where a[(c * shape.height + y) * shape.width + x] != b[(c * shape.height + y) * shape.width + x] {
                    changed = true
                }
                let sees = (y * field.stride - field.margin...y * field.stride + field.stride - 1 + field.margin).contains(py)
                    && (x * field.stride - field.margin...x * field.stride + field.stride - 1 + field.margin).contains(px)
                #expect(changed == sees, "\(layer) position (\(y), \(x))")
            }
        }
    }
}
