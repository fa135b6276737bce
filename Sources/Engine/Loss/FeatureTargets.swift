/// The fixed targets of the objective: content activations P and style Gram matrices A,
/// each computed by one forward pass over its own image (a style image may have any size).
public enum FeatureTargets {
    public static func activations(network: VGG19Network, pooling: PoolingMode, image: Tensor,
                                   layers: [String], threads: Int) throws -> [String: [Float]] {
        try forEachLayer(network: network, pooling: pooling, image: image, layers: layers, threads: threads) { pointer, shape in
            Array(UnsafeBufferPointer(start: pointer, count: shape.count))
        }
    }

    public static func grams(network: VGG19Network, pooling: PoolingMode, image: Tensor,
                             layers: [String], threads: Int) throws -> [String: [Float]] {
        try forEachLayer(network: network, pooling: pooling, image: image, layers: layers, threads: threads) { pointer, shape in
            Gram.compute(pointer, channels: shape.channels, positions: shape.planeSize)
        }
    }

    /// One forward pass over `image`, then `extract` on each requested layer's activation.
    private static func forEachLayer(network: VGG19Network, pooling: PoolingMode, image: Tensor, layers: [String],
                                     threads: Int,
                                     _ extract: (UnsafePointer<Float>, FeatureGraph.Shape) -> [Float]) throws -> [String: [Float]] {
        guard !layers.isEmpty else { return [:] }   // e.g. no content layers when α = 0
        let graph = try FeatureGraph(network: network, pooling: pooling, height: image.height, width: image.width,
                                     taps: layers, threads: threads)
        image.withUnsafeBufferPointer { graph.forward($0.baseAddress!) }
        var result: [String: [Float]] = [:]
        for layer in layers {
            let (pointer, shape) = graph.activation(layer)
            result[layer] = extract(pointer, shape)
        }
        return result
    }
}
