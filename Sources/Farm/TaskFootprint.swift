import Engine

/// The memory a task needs at its peak, estimated from what it renders at once, so that the
/// coordinator sends a task only to a worker that can hold it and a worker refuses one that
/// would not fit now (an allocation failure would lose its other work and look like a crash).
///
/// Deliberately generous: ~3 KB per rendered pixel. VGG19's activations, their gradients and
/// the optimiser's history measure 685 MB at 512², 2.6 KB a pixel (README, "Speed").
public enum TaskFootprint {
    public static let bytesPerPixel = 3000
    /// The most a style-targets task holds at once (a 640² style, the largest done in one pass).
    public static let styleTargetsPixels = 640 * 640

    /// Bytes for `pixels` rendered at once; nil when that overflows (no worker has that much).
    public static func bytes(forPixels pixels: Int) -> Int? {
        let (bytes, overflow) = pixels.multipliedReportingOverflow(by: bytesPerPixel)
        return overflow || pixels < 0 ? nil : bytes
    }

    /// The pixels whose footprint is at least `bytes` (rounded up).
    public static func pixels(forBytes bytes: Int) -> Int {
        bytes <= 0 ? 0 : (bytes - 1) / bytesPerPixel + 1
    }

    /// The most pixels `order` renders at once: a render's largest stage, a tile's window. For an
    /// exact shard, `ExactMemoryModel`'s predicted peak expressed in such pixels (or, when the
    /// model cannot tell, its windows together). 0 when it cannot be told (the worker's own
    /// check still applies).
    public static func pixels(of order: WorkOrder) -> Int {
        switch order {
        case .render:
            let side = (try? order.request.resolve().stageSizes.max()) ?? nil
            return square(side ?? 0)
        case .styleTargets:
            // The styles at the output's scale, each in one pass up to 640² and window by window
            // above (`TileTaskRenderer.wholeStylePixels`, `TiledGram`): never more than 640² at once,
            // however large the output (a 4096² output's targets are not 4096² at once).
            let side = (try? order.request.resolve().stageSizes.max()) ?? nil
            return min(square(side ?? 0), styleTargetsPixels)
        case .tile(let tile):
            let (pixels, overflow) = tile.window.width.multipliedReportingOverflow(by: tile.window.height)
            return overflow ? Int.max : pixels
        case .shard(let shard):
            // The memory model's prediction, as the pixels `bytes(forPixels:)` turns back into
            // (at least) those bytes, so that `canRun` compares the prediction with the memory.
            if let predicted = try? shard.predictedPeakBytes() { return pixels(forBytes: predicted) }
            guard shard.tile > 0, shard.shardCount > 0 else { return 0 }
            let columns = (shard.outputWidth + shard.tile - 1) / shard.tile, rows = (shard.outputHeight + shard.tile - 1) / shard.tile
            if shard.scheme == .gradientExchange {
                // One window: the shard's band (its tile rows and the halo above and below, full width).
                let own = (rows + shard.shardCount - 1) / shard.shardCount
                let band = min(shard.outputHeight, own.multipliedReportingOverflow(by: shard.tile).partialValue + 2 * max(0, shard.halo ?? 0))
                let (pixels, overflow) = shard.outputWidth.multipliedReportingOverflow(by: band)
                return overflow ? Int.max : pixels
            }
            let tiles = (columns.multipliedReportingOverflow(by: rows).partialValue + shard.shardCount - 1) / shard.shardCount
            // A shard's window reaches its halo (the deepest layer's receptive field when unset).
            let window = min(shard.tile + 2 * (shard.halo ?? 192), max(shard.outputWidth, shard.outputHeight))
            let (pixels, overflow) = tiles.multipliedReportingOverflow(by: square(window))
            return overflow ? Int.max : pixels
        }
    }

    public static func square(_ side: Int) -> Int {
        let (pixels, overflow) = side.multipliedReportingOverflow(by: side)
        return overflow ? Int.max : pixels
    }
}
