/// The Gram matrices of an image too large for one forward pass, computed window by window.
///
/// The image is cut by a `TileWindowLayout` aligned to the deepest layer's stride, with a halo of
/// at least that layer's receptive-field margin. Each window's forward pass computes every
/// activation the window's tile owns exactly (its receptive field is inside the window, or
/// crosses only image edges, where the window pads with zeros just as the whole image does);
/// the tile adds `Σ F Fᵀ` over those positions, and the sum over tiles divided by the whole
/// layer's `H·W` is `FeatureTargets.grams` of the whole image, up to float rounding of the
/// different summation order.
///
/// Memory: one window's `FeatureGraph` at a time (rebuilt only when the window size changes),
/// plus one C×C sum per layer. This is how a tiled job computes its style targets at the scale
/// of a huge output, so that strokes keep their size relative to the image.
public enum TiledGram {
    /// - Parameters:
    ///   - width, height: the whole image's size.
    ///   - tile: tile interior side; a multiple of the deepest layer's stride.
    ///   - halo: pixels of context; nil means the least that is exact (`forwardHalo`).
    ///   - window: returns the preprocessed CHW pixels of a rectangle of the image; called once
    ///     per tile, so the caller may decode or resample bands on demand.
    public static func compute(network: VGG19Network, pooling: PoolingMode, width: Int, height: Int,
                               layers: [String], tile: Int, halo: Int? = nil, threads: Int,
                               window: (PixelRect) throws -> Tensor) throws -> [String: [Float]] {
        guard !layers.isEmpty else { return [:] }
        let layout = try TileWindowLayout(width: width, height: height, tile: tile, layers: layers,
                                          exactGradient: false, halo: halo)
        // Fail early on an image too small for the deepest layer, as one forward pass would.
        let deepest = try VGG19Architecture.totalStride(for: layers)
        guard width >= deepest, height >= deepest else {
            throw EngineError(.invalidArgument, "image \(width)×\(height) is too small for layers \(layers.joined(separator: ",")): it pools to nothing; use at least \(deepest) pixels per side")
        }
        let fields = try Dictionary(uniqueKeysWithValues: layers.map { ($0, try VGG19Architecture.receptiveField(of: $0)) })
        var sums: [String: [Float]] = [:]
        var graph: FeatureGraph?
        for tile in layout.tiles {
            let pixels = try window(tile.window)
            guard pixels.channels == 3, pixels.width == tile.window.width, pixels.height == tile.window.height else {
                throw EngineError(.invalidArgument, "window \(tile.window) came back as \(pixels.channels)×\(pixels.height)×\(pixels.width)")
            }
            if graph?.inputShape.height != pixels.height || graph?.inputShape.width != pixels.width {
                graph = nil   // drop the old graph before allocating the next one
                graph = try FeatureGraph(network: network, pooling: pooling, height: pixels.height, width: pixels.width,
                                         taps: layers, threads: threads)
            }
            let g = graph!
            pixels.withUnsafeBufferPointer { g.forward($0.baseAddress!) }
            for layer in layers {
                let (features, shape) = g.activation(layer)
                let owned = layout.ownedPositions(of: tile, stride: fields[layer]!.stride)
                var sum = sums[layer] ?? [Float](repeating: 0, count: shape.channels * shape.channels)
                sum.withUnsafeMutableBufferPointer {
                    Gram.accumulateOwned(features, channels: shape.channels, height: shape.height, width: shape.width,
                                         rows: owned.rows, columns: owned.columns, into: $0.baseAddress!)
                }
                sums[layer] = sum
            }
        }
        var grams: [String: [Float]] = [:]
        for layer in layers {
            let size = layout.layerSize(stride: fields[layer]!.stride)
            let scale = 1 / Float(size.height * size.width)
            grams[layer] = sums[layer]!.map { $0 * scale }
        }
        return grams
    }

    /// The same for an image already in memory (preprocessed CHW).
    public static func compute(network: VGG19Network, pooling: PoolingMode, image: Tensor, layers: [String],
                               tile: Int, halo: Int? = nil, threads: Int) throws -> [String: [Float]] {
        try compute(network: network, pooling: pooling, width: image.width, height: image.height, layers: layers,
                    tile: tile, halo: halo, threads: threads) { image.cropped(to: $0) }
    }
}
