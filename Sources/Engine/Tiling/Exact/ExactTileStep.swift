/// One tile's share of an exact tiled render step: the forward pass of its window gives partial
/// sums, and after the coordinator has added every tile's sums into the global Gram matrices,
/// the backward pass gives the exact gradient of the whole-image objective on the tile's pixels.
///
/// Why the sum over tiles is exactly the whole-image gradient. With the global Grams G_l fixed,
/// dL/dF_l at an activation q is a function of F_l[q] alone:
/// `(4β/(C²N_l)) Σᵢ wᵢσᵢ s_il (G_l − A_il) F_l[q] + (2α c_l/(C N_l)) (F_l[q] − P_l[q])`
/// (N_l: positions of the whole image's layer). So dL/dx for an interior pixel x is
/// `Σ_l Σ_q dL/dF_l[q] · ∂F_l[q]/∂x` over the activations q that see x. An activation of a layer
/// with stride j and margin m sees x when its cell lies within m pixels of x; its own receptive
/// field then reaches `2m + j − 1` pixels beyond x. With a halo of at least
/// `2m + j − 1 = size − 1` (`VGG19Architecture.exactHalo`; sufficient, and at most one alignment
/// step above the least halo that works), every such activation's receptive
/// field is inside the window (or crosses only image edges, which the window pads as the whole
/// image does, its grid being stride-aligned), so the window computes its value, its ReLU masks
/// and max-pool choices, and its Jacobian to x exactly. Activations near the window's inner edges
/// are wrong, but they do not see any interior pixel (in the window graph, zero padding only
/// removes dependencies), so back-propagating dL/dF at EVERY window position, computed from the
/// global Grams, yields the exact gradient on the interior and garbage only in the halo, which
/// is dropped. TV pairs touching an interior pixel are inside the window (halo ≥ 1), so the
/// window's TV gradient is exact there too.
///
/// The other scheme, `.gradientExchange`, needs only the forward halo (the margin m): each tile
/// back-propagates dL/dF at the activations it OWNS (exact with halo m, and so are their
/// Jacobians) and the TV pairs it owns, which gives their contribution to every pixel of its
/// window, halo included; each activation and pair is owned once, so summing every window's
/// contribution at each pixel (`TileWindowLayout.interiorGradient`) is the exact gradient. That
/// costs a second exchange per step (a tile's halo gradients go to the neighbours that own
/// those pixels) but a much smaller window: block5_relu1 needs a halo of 80 instead of 160
/// (a 512 tile's window 672² instead of 832² pixels, 1.5× less compute). `.wideHalo` keeps one
/// exchange per step (partial sums up, global Grams down) and suits deep layers with large tiles
/// less well; the coordinator picks.
///
/// Forward sums cover only the activations (and TV pairs) the tile owns (`TileWindowLayout.
/// ownedPositions`), so each is counted once over all tiles.
public final class ExactTileStep {
    public enum Scheme: String, Sendable, Codable, CaseIterable {
        /// Halo ≥ `exactHalo`; `backward` gives the exact gradient on the interior alone.
        case wideHalo
        /// Halo ≥ `forwardHalo`; `backwardContribution` gives the owned activations' share of the
        /// gradient on the whole window, to be summed over tiles.
        case gradientExchange

        /// The halo this scheme needs for `layers`.
        public func halo(for layers: [String]) throws -> Int {
            switch self {
            case .wideHalo: try VGG19Architecture.exactHalo(for: layers)
            case .gradientExchange: try VGG19Architecture.forwardHalo(for: layers)
            }
        }
    }

    public let scheme: Scheme
    public let objective: TiledObjective
    public let layout: TileWindowLayout
    public let tile: TileWindow
    /// The window's graph: kept between passes, or (`release()`) freed after each one and made
    /// again, so that a shard of many windows holds one graph at a time.
    private var graph: FeatureGraph?
    private let network: VGG19Network
    private let threads: Int
    /// Gradient exchange: the rows each pooling step keeps (`FeatureGraph.rowCrops`).
    let rowCrops: [Int: Range<Int>]
    /// The window's pixels and its gradient, alive with the graph.
    private var buffers: (pixels: FloatBuffer, gradient: FloatBuffer)?
    let contentTargets: [String: FloatBuffer]
    let fields: [String: ReceptiveField]
    let styleLayers: [String]
    /// Σᵢ coefficientᵢ·(G − Aᵢ) per style layer for the current backward pass.
    let folds: [String: FloatBuffer]
    private var folded: Set<String> = []
    private var hasForward = false

    /// - Parameters:
    ///   - layout: from `objective.layout(tile:)` (a halo of at least `exactHalo`).
    ///   - contentWindow: the content image's pixels in `layout.tiles[tile].window` (preprocessed);
    ///     its activations at the owned positions are the whole content image's.
    public convenience init(network: VGG19Network, objective: TiledObjective, layout: TileWindowLayout, tile index: Int,
                            contentWindow: Tensor, scheme: Scheme = .wideHalo, threads: Int) throws {
        try self.init(network: network, objective: objective, layout: layout, tile: index, contentWindow: contentWindow,
                      scheme: scheme, threads: threads, requireExactHalo: true)
    }

    /// `requireExactHalo: false` lets tests show what a smaller halo gets wrong.
    init(network: VGG19Network, objective: TiledObjective, layout: TileWindowLayout, tile index: Int,
         contentWindow: Tensor, scheme: Scheme, threads: Int, requireExactHalo: Bool) throws {
        // The exact partial sums use unmasked Grams; a masked style would silently lose its mask.
        guard objective.styles.allSatisfy({ $0.mask == nil }) else {
            throw EngineError(.invalidArgument, "style masks are not supported in exact tiled mode yet; render without --mask")
        }
        guard layout.tiles.indices.contains(index) else {
            throw EngineError(.invalidArgument, "tile \(index) is not in the layout (\(layout.tiles.count) tiles)")
        }
        guard layout.imageWidth == objective.width, layout.imageHeight == objective.height else {
            throw EngineError(.invalidArgument, "the layout is for \(layout.imageWidth)×\(layout.imageHeight), the objective for \(objective.width)×\(objective.height)")
        }
        let layers = objective.tappedLayers
        let needed = max(1, try scheme.halo(for: layers))
        guard layout.halo >= needed || !requireExactHalo else {
            throw EngineError(.invalidArgument, "halo \(layout.halo) is smaller than the \(needed) pixels layers \(layers.joined(separator: ",")) need for an exact gradient (\(scheme) scheme)")
        }
        let stride = try VGG19Architecture.totalStride(for: layers)
        guard layout.alignment % stride == 0 else {
            throw EngineError(.invalidArgument, "the layout's alignment \(layout.alignment) is not a multiple of the layers' stride")
        }
        let tile = layout.tiles[index]
        guard contentWindow.channels == 3, contentWindow.width == tile.window.width, contentWindow.height == tile.window.height else {
            throw EngineError(.invalidArgument, "content window is \(contentWindow.width)×\(contentWindow.height), tile \(index)'s window is \(tile.window)")
        }
        self.scheme = scheme
        self.objective = objective
        self.layout = layout
        self.tile = tile
        self.network = network
        self.threads = threads
        rowCrops = scheme == .gradientExchange ? try Self.rowCrops(layout: layout, tile: tile, layers: layers) : [:]
        let targets = try FeatureTargets.activations(network: network, pooling: objective.pooling, image: contentWindow,
                                                     layers: objective.contentLayers.map(\.layer), threads: threads)
        contentTargets = targets.mapValues { values in
            let buffer = FloatBuffer(count: values.count)
            values.withUnsafeBufferPointer { buffer.base.update(from: $0.baseAddress!, count: values.count) }
            return buffer
        }
        fields = try Dictionary(uniqueKeysWithValues: layers.map { ($0, try VGG19Architecture.receptiveField(of: $0)) })
        styleLayers = objective.styleLayers
        var folds: [String: FloatBuffer] = [:]
        for layer in styleLayers {
            let c = try objective.layerShape(layer).channels
            for style in objective.styles where style.layers.contains(where: { $0.layer == layer }) {
                guard style.grams[layer]?.count == c * c else {
                    throw EngineError(.invalidArgument, "style target Gram for \(layer) is missing or has the wrong size")
                }
            }
            folds[layer] = FloatBuffer(count: c * c)
        }
        self.folds = folds
    }

    /// Bytes held by this tile's graph (while it lives) and buffers.
    public var bytesAllocated: Int {
        (graph?.bytesAllocated ?? 0) + ((buffers.map { $0.pixels.count + $0.gradient.count } ?? 0)
                                        + contentTargets.values.reduce(0) { $0 + $1.count }) * MemoryLayout<Float>.stride
    }

    /// The graph, made if it was released.
    private func liveGraph() throws -> FeatureGraph {
        if let graph { return graph }
        buffers = (FloatBuffer(count: 3 * tile.window.pixelCount), FloatBuffer(count: 3 * tile.window.pixelCount))
        let made = try FeatureGraph(network: network, pooling: objective.pooling, height: tile.window.height,
                                    width: tile.window.width, taps: objective.tappedLayers, threads: threads, rowCrops: rowCrops)
        graph = made
        return made
    }

    /// Frees the graph (its activations); the next `forward` makes it again.
    public func release() {
        graph = nil
        buffers = nil
        hasForward = false
    }

    /// Runs the window's forward pass on `window` (the current image's pixels in `tile.window`,
    /// preprocessed) and returns the tile's partial sums.
    public func forward(window: Tensor) throws -> ExactPartialSums {
        guard window.channels == 3, window.width == tile.window.width, window.height == tile.window.height else {
            throw EngineError(.invalidArgument, "window pixels are \(window.width)×\(window.height), tile \(tile.index)'s window is \(tile.window)")
        }
        let graph = try liveGraph()
        guard let (pixels, _) = buffers else { throw EngineError(.failed, "tile \(tile.index) has no buffers") }
        window.withUnsafeBufferPointer { pixels.base.update(from: $0.baseAddress!, count: $0.count) }
        graph.forward(pixels.base)
        hasForward = true

        var sums = ExactPartialSums()
        for layer in styleLayers {
            let (features, shape) = graph.activation(layer)
            let owned = ownedPositions(layer, graph: graph)
            var sum = [Float](repeating: 0, count: shape.channels * shape.channels)
            sum.withUnsafeMutableBufferPointer {
                Gram.accumulateOwned(features, channels: shape.channels, height: shape.height, width: shape.width,
                                     rows: owned.rows, columns: owned.columns, into: $0.baseAddress!)
            }
            sums.grams[layer] = sum
        }
        for weighted in objective.contentLayers where sums.contentSquares[weighted.layer] == nil {
            let (features, shape) = graph.activation(weighted.layer)
            let target = contentTargets[weighted.layer]!.base
            let owned = ownedPositions(weighted.layer, graph: graph)
            let (targetHeight, offset) = (contentTargets[weighted.layer]!.count / (shape.channels * shape.width),
                                          graph.rowOffset(of: weighted.layer))
            var total = 0.0
            for c in 0..<shape.channels {
                for row in owned.rows {
                    let start = c * shape.planeSize + row * shape.width
                    let targetStart = (c * targetHeight + row + offset) * shape.width - start
                    var partial: Float = 0
                    for i in (start + owned.columns.lowerBound)..<(start + owned.columns.upperBound) {
                        let d = features[i] - target[targetStart + i]
                        partial += d * d
                    }
                    total += Double(partial)
                }
            }
            sums.contentSquares[weighted.layer] = total
        }
        sums.tv = ownedTotalVariation(pixels)
        return sums
    }

    /// Σ of squared differences over the pixel pairs whose top or left pixel is in the interior.
    func ownedTotalVariation(_ pixels: FloatBuffer) -> Double {
        let w = tile.window.width, h = tile.window.height
        let inner = tile.interiorInWindow
        var total = 0.0
        for c in 0..<3 {
            let plane = pixels.base + c * w * h
            for y in inner.y..<inner.maxY {
                let row = plane + y * w
                var partial: Float = 0
                for x in inner.x..<inner.maxX {
                    let v = row[x]
                    if x + 1 < w { let d = row[x + 1] - v; partial += d * d }
                    if y + 1 < h { let d = row[x + w] - v; partial += d * d }
                }
                total += Double(partial)
            }
        }
        return total
    }

    /// Back-propagates the whole-image objective, with the global Gram matrices `globalGrams`
    /// (`TiledObjective.globalGrams` of the summed partial sums), through the window of the last
    /// `forward`, and returns dL/dx on the tile's interior (3 × interior height × width).
    /// `.wideHalo` scheme only.
    public func backward(globalGrams: [String: [Float]]) throws -> Tensor {
        guard scheme == .wideHalo else {
            throw EngineError(.invalidArgument, "tile \(tile.index) uses the gradient-exchange scheme: call backwardContribution")
        }
        try backPropagate(globalGrams: globalGrams)
        return try copyGradient(tile.interiorInWindow)
    }

    /// `.gradientExchange` scheme: back-propagates the loss of the activations and TV pairs this
    /// tile owns and returns their contribution to dL/dx on the whole window (3 × window height ×
    /// width). The gradient on a tile's interior is the sum of every window's contribution there
    /// (`TileWindowLayout.interiorGradient`).
    public func backwardContribution(globalGrams: [String: [Float]]) throws -> Tensor {
        guard scheme == .gradientExchange else {
            throw EngineError(.invalidArgument, "tile \(tile.index) uses the wide-halo scheme: call backward")
        }
        try backPropagate(globalGrams: globalGrams)
        return try copyGradient(PixelRect(x: 0, y: 0, width: tile.window.width, height: tile.window.height))
    }

    /// Fills `gradient` (the window's dL/dx) for the current scheme.
    private func backPropagate(globalGrams: [String: [Float]]) throws {
        guard hasForward, let graph, let (pixels, gradient) = buffers else {
            throw EngineError(.failed, "backward before forward on tile \(tile.index)")
        }
        folded = []
        for layer in styleLayers {
            let shape = graph.activation(layer).shape
            let c = shape.channels
            guard let gram = globalGrams[layer], gram.count == c * c else {
                throw EngineError(.invalidArgument, "global Gram for \(layer) is missing or has the wrong size")
            }
            let positions = (layout.imageHeight / fields[layer]!.stride) * (layout.imageWidth / fields[layer]!.stride)
            let fold = folds[layer]!.base
            fold.update(repeating: 0, count: c * c)
            for style in objective.styles {
                guard let layerWeight = style.layers.first(where: { $0.layer == layer })?.weight,
                      let target = style.grams[layer] else { continue }
                let coefficient = objective.beta * style.weight * layerWeight * 4 / (Float(c * c) * Float(positions))
                guard coefficient != 0 else { continue }
                for i in 0..<(c * c) { fold[i] += coefficient * (gram[i] - target[i]) }
                folded.insert(layer)
            }
        }
        graph.backward(into: gradient.base, input: pixels.base) { layer, g in addLossGradient(layer, into: g, graph: graph) }
        let shape = graph.inputShape
        guard objective.tvWeight != 0 else { return }
        switch scheme {
        case .wideHalo:
            _ = TotalVariation.evaluate(pixels.base, channels: 3, height: shape.height, width: shape.width,
                                        weight: objective.tvWeight, gradient: gradient.base)
        case .gradientExchange:
            addOwnedTotalVariationGradient(pixels, gradient)
        }
    }

    /// `weight · dTV/dx` of the pairs this tile owns (top or left pixel in the interior).
    private func addOwnedTotalVariationGradient(_ pixels: FloatBuffer, _ gradient: FloatBuffer) {
        let w = tile.window.width, h = tile.window.height
        let inner = tile.interiorInWindow
        let weight = objective.tvWeight
        for c in 0..<3 {
            let plane = pixels.base + c * w * h
            let g = gradient.base + c * w * h
            for y in inner.y..<inner.maxY {
                for x in inner.x..<inner.maxX {
                    let i = y * w + x
                    if x + 1 < w { let d = plane[i + 1] - plane[i]; g[i] -= 2 * weight * d; g[i + 1] += 2 * weight * d }
                    if y + 1 < h { let d = plane[i + w] - plane[i]; g[i] -= 2 * weight * d; g[i + w] += 2 * weight * d }
                }
            }
        }
    }

    /// A rectangle of the window's gradient as a tensor.
    private func copyGradient(_ rect: PixelRect) throws -> Tensor {
        guard let gradient = buffers?.gradient else { throw EngineError(.failed, "tile \(tile.index) has no gradient") }
        let shape = (height: tile.window.height, width: tile.window.width)
        var out = Tensor(channels: 3, height: rect.height, width: rect.width)
        out.withUnsafeMutableBufferPointer { out in
            for c in 0..<3 {
                for row in 0..<rect.height {
                    let from = gradient.base + (c * shape.height + rect.y + row) * shape.width + rect.x
                    (out.baseAddress! + (c * rect.height + row) * rect.width).update(from: from, count: rect.width)
                }
            }
        }
        return out
    }

    /// Adds dL/dF of the tapped `layer` into `g`: at every window position (`.wideHalo`), or at
    /// the owned positions only (`.gradientExchange`).
    private func addLossGradient(_ layer: String, into g: UnsafeMutablePointer<Float>, graph: FeatureGraph) {
        let (features, shape) = graph.activation(layer)
        let stride = fields[layer]!.stride
        let positions = (layout.imageHeight / stride) * (layout.imageWidth / stride)
        let region = scheme == .wideHalo ? (rows: 0..<shape.height, columns: 0..<shape.width)
                                         : ownedPositions(layer, graph: graph)
        guard !region.rows.isEmpty, !region.columns.isEmpty else { return }
        for weighted in objective.contentLayers where weighted.layer == layer {
            let scale = objective.alpha * weighted.weight * 2 / Float(shape.channels * positions)
            guard scale != 0 else { continue }
            let target = contentTargets[layer]!.base
            let (targetHeight, offset) = (contentTargets[layer]!.count / (shape.channels * shape.width), graph.rowOffset(of: layer))
            for c in 0..<shape.channels {
                for row in region.rows {
                    let start = c * shape.planeSize + row * shape.width
                    let targetStart = (c * targetHeight + row + offset) * shape.width - start
                    for i in (start + region.columns.lowerBound)..<(start + region.columns.upperBound) {
                        g[i] += scale * (features[i] - target[targetStart + i])
                    }
                }
            }
        }
        guard folded.contains(layer) else { return }
        if region.rows.count == shape.height && region.columns.count == shape.width {
            Gram.accumulateGradient(folds[layer]!.base, features: features, channels: shape.channels,
                                    positions: shape.planeSize, into: g, threads: graph.threads)
        } else {
            Gram.accumulateOwnedGradient(folds[layer]!.base, features: features, channels: shape.channels,
                                         height: shape.height, width: shape.width, rows: region.rows,
                                         columns: region.columns, into: g)
        }
    }

    /// The activations of `layer` this tile owns, in the rows of `graph` (which may have cut
    /// rows above them).
    private func ownedPositions(_ layer: String, graph: FeatureGraph) -> (rows: Range<Int>, columns: Range<Int>) {
        let owned = layout.ownedPositions(of: tile, stride: fields[layer]!.stride)
        let offset = graph.rowOffset(of: layer)
        return ((owned.rows.lowerBound - offset)..<(owned.rows.upperBound - offset), owned.columns)
    }

    /// The gradient exchange's row cuts: after each pooling step, only the rows that an owned
    /// activation of a deeper (or this) tapped layer depends on, widened to the pooling grid of
    /// the steps after it. A band's halo is as wide as the deepest layer's margin, but the
    /// deep layers need little of it: block5_relu1's owned rows need one row of block4_pool
    /// beyond them, not five. Cutting the rest saves about a third of the halo's compute.
    static func rowCrops(layout: TileWindowLayout, tile: TileWindow, layers: [String]) throws -> [Int: Range<Int>] {
        let taps = try layers.map { (step: try VGG19Architecture.location(of: $0).step, field: try VGG19Architecture.receptiveField(of: $0)) }
        guard let deepest = taps.map(\.step).max() else { return [:] }
        var crops: [Int: Range<Int>] = [:]
        for (index, step) in VGG19Architecture.steps.prefix(deepest + 1).enumerated() where step == .pool {
            let field = VGG19Architecture.receptiveField(atStep: index)
            let fullHeight = tile.window.height / field.stride
            var top = Int.max, bottom = Int.min
            for tap in taps where tap.step >= index {
                let owned = layout.ownedPositions(of: tile, stride: tap.field.stride).rows
                guard !owned.isEmpty else { continue }
                let factor = tap.field.stride / field.stride, reach = (tap.field.margin - field.margin) / field.stride
                top = min(top, owned.lowerBound * factor - reach)
                bottom = max(bottom, owned.upperBound * factor + reach)
            }
            guard top < bottom else { continue }
            let grid = max(1, layout.alignment / field.stride)
            top = max(0, top / grid * grid)
            bottom = min(fullHeight, (bottom + grid - 1) / grid * grid)
            if top > 0 || bottom < fullHeight { crops[index] = top..<bottom }
        }
        return crops
    }
}
