/// VGG19's convolutions with their weights: immutable, shared by every graph and thread.
public struct VGG19Network: Sendable {
    public let convolutions: [Conv3x3]

    /// `convolutions` may be a prefix of the 16 (a truncated network), in network order.
    public init(convolutions: [Conv3x3]) throws {
        guard convolutions.count <= VGG19Architecture.convolutions.count else {
            throw EngineError(.invalidArgument, "VGG19 has 16 convolutions, got \(convolutions.count)")
        }
        for (conv, spec) in zip(convolutions, VGG19Architecture.convolutions)
        where conv.inChannels != spec.inChannels || conv.outChannels != spec.outChannels {
            throw EngineError(.weightsCorrupt,
                              "\(spec.name) must map \(spec.inChannels)→\(spec.outChannels) channels, got \(conv.inChannels)→\(conv.outChannels)")
        }
        self.convolutions = convolutions
    }

    /// Floating-point operations of one forward pass (multiply-add = 2) up to `steps` steps at
    /// the given input size; the backward-to-input pass costs the same again.
    public static func forwardFLOPs(height: Int, width: Int, steps: Int) -> Double {
        var h = height, w = width, flops = 0.0
        for step in VGG19Architecture.steps.prefix(steps) {
            switch step {
            case .convolution(let i):
                let spec = VGG19Architecture.convolutions[i]
                flops += 2 * 9 * Double(spec.inChannels * spec.outChannels) * Double(h * w)
            case .pool:
                (h, w) = Pooling.outputSize(height: h, width: w)
            }
        }
        return flops
    }
}
