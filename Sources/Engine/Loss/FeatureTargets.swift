/// The fixed targets of the objective: content activations P and style Gram matrices A,
/// each computed by one forward pass over its own image (a style image may have any size).
public enum FeatureTargets {
    public static func activations(network: VGG19Network, pooling: PoolingMode, image: Tensor,
                                   layers: [String], threads: Int) throws -> [String: [Float]] {
        let graph = try FeatureGraph(network: network, pooling: pooling, height: image.height, width: image.width,
                                     taps: layers, threads: threads)
        image.withUnsafeBufferPointer { graph.forward($0.baseAddress!) }
        var result: [String: [Float]] = [:]
        for layer in layers {
            let (pointer, shape) = graph.activation(layer)
            result[layer] = Array(UnsafeBufferPointer(start: pointer, count: shape.count))
        }
        return result
    }

    public static func grams(network: VGG19Network, pooling: PoolingMode, image: Tensor,
                             layers: [String], threads: Int) throws -> [String: [Float]] {
        let graph = try FeatureGraph(network: network, pooling: pooling, height: image.height, width: image.width,
                                     taps: layers, threads: threads)
        image.withUnsafeBufferPointer { graph.forward($0.baseAddress!) }
        var result: [String: [Float]] = [:]
        for layer in layers {
            let (pointer, shape) = graph.activation(layer)
            result[layer] = Gram.compute(pointer, channels: shape.channels, positions: shape.planeSize)
        }
        return result
    }
}
