public import Engine

extension ShardOrder {
    /// The worker's predicted peak bytes for this shard (`ExactMemoryModel`): its windows,
    /// band, layers and optimiser, its graphs recomputed when it has more than one window across
    /// (gradient exchange). One thread (the workspace a worker with more adds is small).
    public func predictedPeakBytes() throws -> Int {
        let settings = try render.resolvingTaskReferences().resolve()
        return try Self.predictedPeakBytes(settings: settings, width: outputWidth, height: outputHeight, tile: tile, halo: halo,
                                           scheme: scheme ?? .wideHalo, shards: shardCount, index: shardIndex,
                                           columns: columns ?? 1)
    }

    /// Where this shard's windows, band and rows lie.
    public func geometry() throws -> ExactShard.Geometry {
        let settings = try render.resolvingTaskReferences().resolve()
        let objective = Self.objective(settings: settings, width: outputWidth, height: outputHeight)
        let scheme = scheme ?? .wideHalo
        return try ExactShard.geometry(objective: objective, tile: tile, halo: halo, scheme: scheme, shards: shardCount, index: shardIndex,
                                       columns: scheme == .gradientExchange ? columns ?? 1 : 1)
    }

    /// `predictedPeakBytes` of shard `index` of `shards` of a `width`×`height` image.
    public static func predictedPeakBytes(settings: RenderSettings, width: Int, height: Int, tile: Int, halo: Int?,
                                          scheme: ExactTileStep.Scheme, shards: Int, index: Int, columns: Int) throws -> Int {
        let objective = Self.objective(settings: settings, width: width, height: height)
        let geometry = try ExactShard.geometry(objective: objective, tile: tile, halo: halo, scheme: scheme, shards: shards, index: index,
                                               columns: scheme == .gradientExchange ? columns : 1)
        let model = ExactMemoryModel(layers: objective.tappedLayers, optimizer: settings.optimizer, history: settings.lbfgsHistory,
                                     contentLayers: settings.contentLayers.map(\.layer),
                                     heldConvolutions: ExactMemoryModel.workerConvolutions)
        return try model.breakdown(geometry, recompute: scheme == .gradientExchange && columns > 1).total
    }
}

extension ShardOrder {
    /// The objective's shape for planning: sizes and layers, no style targets.
    static func objective(settings: RenderSettings, width: Int, height: Int) -> TiledObjective {
        TiledObjective(width: width, height: height, pooling: settings.pooling, contentLayers: settings.contentLayers,
                       styles: settings.styleLayers.map { StyleTerm(layers: $0, weight: 1, grams: [:]) },
                       alpha: settings.alpha, beta: settings.beta, tvWeight: settings.tvWeight)
    }
}

extension RenderRequest {
    /// The request with a starting image that is another task's result or a blob
    /// (`task:stitch-1`, `blob:…`) read as the content, for resolving its settings away from
    /// the files: sizes, layers and optimiser do not depend on it.
    public func resolvingTaskReferences() -> RenderRequest {
        var probe = self
        if let initialization = probe.initialization, !["content", "noise", "style"].contains(initialization) {
            probe.initialization = "content"
        }
        return probe
    }
}
