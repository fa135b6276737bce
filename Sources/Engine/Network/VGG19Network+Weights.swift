internal import Foundation

extension VGG19Network {
    /// The network from loaded weights, keeping only the first `convolutions` layers (a render
    /// needs only as deep as its deepest layer; block5_relu1 needs 13 of the 16). Each layer's
    /// method comes from `policy`, by default from `STYLEFARM_CONV` (unset: `auto`); Winograd
    /// layers transform their weights here, once.
    public init(weights: VGG19Weights, convolutions count: Int = 16, policy: ConvolutionPolicy? = nil) throws {
        let policy = try policy ?? ConvolutionPolicy.fromEnvironment(ProcessInfo.processInfo.environment)
        let layers = weights.layers.prefix(max(0, min(count, weights.layers.count)))
        try self.init(convolutions: layers.map {
            Conv3x3(inChannels: $0.inChannels, outChannels: $0.outChannels, weights: $0.weights, bias: $0.bias,
                    method: policy.method(inChannels: $0.inChannels, outChannels: $0.outChannels))
        })
    }

    /// The policy a network built now would get: `STYLEFARM_CONV`, or the standard one when it
    /// is unset or not a policy (building the network reports that error).
    public static var currentConvolutionPolicy: ConvolutionPolicy {
        (try? ConvolutionPolicy.fromEnvironment(ProcessInfo.processInfo.environment)) ?? .standard
    }

    /// How many convolutions a set of layers needs.
    public static func convolutionsNeeded(for layers: [String]) throws -> Int {
        let deepest = try layers.map { try VGG19Architecture.location(of: $0).step }.max() ?? 0
        return VGG19Architecture.steps.prefix(deepest + 1).reduce(0) {
            if case .convolution = $1 { return $0 + 1 }
            return $0
        }
    }
}

extension WeightsStore {
    /// Loads the weights and builds the network as deep as `layers` need. The raw weights are
    /// dropped on return, so only the network's own copy stays in memory.
    public func loadNetwork(for layers: [String]) throws -> VGG19Network {
        let count = try VGG19Network.convolutionsNeeded(for: layers)
        return try VGG19Network(weights: try loadWeights(), convolutions: count)
    }
}
