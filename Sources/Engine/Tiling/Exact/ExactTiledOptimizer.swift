/// Runs an exact tiled render with Adam in one process, doing what the coordinator and the
/// workers do across machines: each step every tile runs the forward pass of its window on the
/// current image (fresh halo pixels from its neighbours), the partial sums are added into the
/// global Gram matrices, every tile back-propagates them, and each tile takes an Adam step on
/// its interior. The result is the whole-image Adam render, up to float rounding. With the
/// gradient-exchange scheme the tiles' window gradients are summed before the step (the
/// exchange of halo gradients that the coordinator relays).
///
/// Tiles run one after another, each with `threads` threads: one process stands in for the
/// farm, and a worker running several tiles would do the same.
///
/// Memory: every tile's window graph is alive at once (this simulates N workers); a worker
/// holds only its own tiles' `ExactTileStep`s.
public final class ExactTiledOptimizer {
    public let objective: TiledObjective
    public let layout: TileWindowLayout
    public let adam: Adam.Settings
    let steps: [ExactTileStep]
    let optimizers: [TileAdam]
    /// The current image (preprocessed CHW).
    public private(set) var image: Tensor

    /// - Parameters:
    ///   - content, initial: the whole content and starting images, preprocessed, of the
    ///     objective's size.
    ///   - tile: interior side, a multiple of the layers' total stride.
    ///   - halo: nil for the least exact halo (`VGG19Architecture.exactHalo`).
    public init(network: VGG19Network, objective: TiledObjective, content: Tensor, initial: Tensor,
                tile: Int, halo: Int? = nil, scheme: ExactTileStep.Scheme = .wideHalo, adam: Adam.Settings,
                threads: Int) throws {
        for (name, t) in [("content", content), ("initial", initial)]
        where t.channels != 3 || t.width != objective.width || t.height != objective.height {
            throw EngineError(.invalidArgument, "\(name) image is \(t.width)×\(t.height), the render is \(objective.width)×\(objective.height)")
        }
        let layout = try objective.layout(tile: tile, halo: halo, scheme: scheme)
        self.objective = objective
        self.layout = layout
        self.adam = adam
        image = initial
        steps = try layout.tiles.map {
            try ExactTileStep(network: network, objective: objective, layout: layout, tile: $0.index,
                              contentWindow: content.cropped(to: $0.window), scheme: scheme, threads: threads)
        }
        optimizers = layout.tiles.map { TileAdam(dimension: 3 * $0.interior.pixelCount, settings: adam) }
    }

    /// One evaluation at the current image: the whole image's losses and each tile's interior
    /// gradient, in tile order.
    public func evaluate() throws -> (losses: LossBreakdown, gradients: [Tensor]) {
        let partials = try steps.map { try $0.forward(window: image.cropped(to: $0.tile.window)) }
        let sum = try ExactPartialSums.sum(partials)
        let grams = try objective.globalGrams(sum)
        let gradients: [Tensor]
        switch steps.first?.scheme ?? .wideHalo {
        case .wideHalo:
            gradients = try steps.map { try $0.backward(globalGrams: grams) }
        case .gradientExchange:
            var contributions: [Int: Tensor] = [:]
            for step in steps { contributions[step.tile.index] = try step.backwardContribution(globalGrams: grams) }
            gradients = try layout.tiles.map { try layout.interiorGradient(of: $0, contributions: contributions) }
        }
        return (try objective.losses(sum), gradients)
    }

    /// The whole image's gradient assembled from the tiles' interiors.
    public func wholeGradient() throws -> (losses: LossBreakdown, gradient: Tensor) {
        let (losses, gradients) = try evaluate()
        var whole = Tensor(channels: 3, height: objective.height, width: objective.width)
        for (tile, g) in zip(layout.tiles, gradients) { whole.paste(g, at: tile.interior) }
        return (losses, whole)
    }

    /// Runs `count` Adam steps (as `Adam.start` then `count` × `Adam.iterate`), reporting the
    /// losses at the start (step 0) and after every step, and returns the image.
    public func run(steps count: Int, progress: (Int, LossBreakdown) throws -> Void = { _, _ in }) throws -> Tensor {
        var (losses, gradients) = try evaluate()
        guard losses.isFinite else { throw EngineError(.numeric, "the starting image gives a non-finite loss") }
        try progress(0, losses)
        for step in stride(from: 1, through: count, by: 1) {
            for (index, tile) in layout.tiles.enumerated() {
                var interior = image.cropped(to: tile.interior)
                interior.withUnsafeMutableBufferPointer { x in
                    gradients[index].withUnsafeBufferPointer { g in optimizers[index].update(x.baseAddress!, gradient: g.baseAddress!) }
                }
                image.paste(interior, at: tile.interior)
            }
            (losses, gradients) = try evaluate()
            guard losses.isFinite else {
                throw EngineError(.numeric, "the loss became non-finite at step \(step); lower the learning rate or the loss weights")
            }
            try progress(step, losses)
        }
        return image
    }
}
