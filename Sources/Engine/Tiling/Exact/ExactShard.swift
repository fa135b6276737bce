/// One worker's part of an exact tiled render across the farm: a band of whole tile rows.
///
/// The shard holds the image's pixels over its windows (`band`: full width, its rows grown by
/// the halo); its own rows (`interior`) are its to optimise, the rows above and below belong to
/// its neighbours and are refreshed before every evaluation from the pixels they send
/// (`outgoingStrips` / `receive`). One evaluation of the whole image's objective:
///
/// 1. `forwardSums()`: every own window's forward pass, partial sums added in window order;
/// 2. the coordinator adds every shard's sums (in shard order) and sends them back;
/// 3. `backward(global:)`: the whole image's losses from the sums and the exact gradient on
///    the interior. Two schemes (`ExactTileStep.Scheme`):
///    - `.wideHalo`: one window per job tile with a halo as wide as the deepest layer's
///      receptive field, so each tile's interior gradient is exact by itself;
///    - `.gradientExchange`: ONE window per shard (or `columns` side by side), its band plus the
///      forward halo (the deepest layer's margin) above and below. Each window
///      back-propagates only the activations it owns, which puts gradient on its halo rows
///      too: those rows go to the shards that own them (`outgoingGradients`, one more round)
///      and the rows they send are added in (`receiveGradients`). Halos are about half as
///      wide and a shard's band is one window, so its compute is close to its share of a
///      whole-image render.
///
/// Optimisers (`ExactShardRun`) then move `interiorValues` and hand them back (`setInterior`).
public final class ExactShard {
    /// Where a shard's windows, band and rows lie.
    public struct Geometry: Sendable, Equatable {
        public var scheme: ExactTileStep.Scheme
        public var layout: TileWindowLayout
        public var band: PixelRect
        public var interior: PixelRect
        /// Indices in `layout.tiles` of the shard's windows.
        public var windows: [Int]

        /// Pixels the shard's windows hold: what its compute is proportional to.
        public var windowPixels: Int { windows.reduce(0) { $0 + layout.tiles[$1].window.pixelCount } }
    }

    /// Tile rows per shard: as even as possible, earlier shards taking the remainder.
    public static func tileRows(rows: Int, shards: Int, index: Int) -> Range<Int> {
        let base = rows / shards, extra = rows % shards
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }

    /// Shard `index` of `count` of an exact job with tiles of `tile` pixels: the job's tile rows
    /// split as `tileRows` splits them, whatever the scheme (so the stitch's bands are the
    /// same). `halo` nil is the least the scheme needs; `columns` windows across a band
    /// (gradient exchange only).
    public static func geometry(objective: TiledObjective, tile: Int, halo: Int?, scheme: ExactTileStep.Scheme,
                                shards count: Int, index: Int, columns: Int = 1) throws -> Geometry {
        let grid = try objective.layout(tile: tile, halo: halo, scheme: scheme)
        guard count >= 1, count <= grid.rows, (0..<count).contains(index) else {
            throw EngineError(.invalidArgument, "shard \(index + 1) of \(count) does not fit \(grid.rows) tile rows; use at most \(grid.rows) shards")
        }
        let layout: TileWindowLayout
        let windows: [Int]
        switch scheme {
        case .wideHalo:
            layout = grid
            let rows = tileRows(rows: grid.rows, shards: count, index: index)
            windows = grid.tiles.filter { rows.contains($0.row) }.map(\.index)
        case .gradientExchange:
            guard (1...max(1, objective.width / grid.alignment)).contains(columns) else {
                throw EngineError(.invalidArgument, "\(columns) windows across a \(objective.width)-pixel band: use 1…\(max(1, objective.width / grid.alignment))")
            }
            let rowEnds = (0..<count).map { min(objective.height, tileRows(rows: grid.rows, shards: count, index: $0).upperBound * tile) }
            layout = try TileWindowLayout(width: objective.width, height: objective.height, rowEnds: rowEnds,
                                          columnEnds: TileWindowLayout.evenEnds(objective.width, count: columns, alignment: grid.alignment),
                                          halo: grid.halo, alignment: grid.alignment)
            windows = layout.tiles.filter { $0.row == index }.map(\.index)
        }
        let own = windows.map { layout.tiles[$0] }
        guard let top = own.map(\.interior.y).min(), let bottom = own.map(\.interior.maxY).max(),
              let bandTop = own.map(\.window.y).min(), let bandBottom = own.map(\.window.maxY).max() else {
            throw EngineError(.invalidArgument, "shard \(index + 1) of \(count) has no tiles")
        }
        return Geometry(scheme: scheme, layout: layout,
                        band: PixelRect(x: 0, y: bandTop, width: objective.width, height: bandBottom - bandTop),
                        interior: PixelRect(x: 0, y: top, width: objective.width, height: bottom - top), windows: windows)
    }

    public let objective: TiledObjective
    public let geometry: Geometry
    public let shardIndex: Int
    public let shardCount: Int
    public var scheme: ExactTileStep.Scheme { geometry.scheme }
    public var layout: TileWindowLayout { geometry.layout }
    /// The rows of the whole image this shard holds, and the rows it owns (both full width).
    public var band: PixelRect { geometry.band }
    public var interior: PixelRect { geometry.interior }
    /// The band's pixels, preprocessed CHW.
    public private(set) var image: Tensor
    let steps: [ExactTileStep]
    /// dL/dx on the interior after `backward` (and, with the gradient exchange, `receiveGradients`).
    public private(set) var gradient: Tensor
    /// Gradient exchange: the own windows' contributions over the whole band.
    private var contribution: Tensor?
    /// Whether each window's graph is freed after each pass (and its forward pass run again
    /// before its backward pass): one graph alive at a time instead of one per window, for
    /// about a third more compute (a second forward pass).
    public let recomputes: Bool

    /// - Parameters:
    ///   - content, initial: the content and starting images over `geometry.band` (preprocessed).
    public init(network: VGG19Network, objective: TiledObjective, geometry: Geometry, shards count: Int, index: Int,
                content: Tensor, initial: Tensor, threads: Int, recompute: Bool? = nil) throws {
        let band = geometry.band
        for (name, t) in [("content", content), ("initial", initial)] where t.width != band.width || t.height != band.height || t.channels != 3 {
            throw EngineError(.invalidArgument, "the \(name) band is \(t.width)×\(t.height); shard \(index + 1)'s band is \(band)")
        }
        self.objective = objective
        self.geometry = geometry
        shardIndex = index
        shardCount = count
        image = initial
        recomputes = recompute ?? (geometry.windows.count > 1 && geometry.scheme == .gradientExchange)
        gradient = Tensor(channels: 3, height: geometry.interior.height, width: geometry.interior.width)
        steps = try geometry.windows.map {
            let tile = geometry.layout.tiles[$0]
            return try ExactTileStep(network: network, objective: objective, layout: geometry.layout, tile: $0,
                                     contentWindow: content.cropped(to: tile.window.relative(to: band)), scheme: geometry.scheme,
                                     threads: threads)
        }
    }

    /// Bytes held by the shard's windows' graphs and buffers.
    public var bytesAllocated: Int { steps.reduce(0) { $0 + $1.bytesAllocated } }

    /// Every own window's forward pass on the current band; their partial sums, added in order.
    public func forwardSums() throws -> ExactPartialSums {
        try ExactPartialSums.sum(steps.map { step in
            defer { if recomputes { step.release() } }
            return try step.forward(window: image.cropped(to: step.tile.window.relative(to: band)))
        })
    }

    /// Runs `body` on a window whose graph holds its forward pass (run again if it was freed).
    private func withForward<T>(_ step: ExactTileStep, _ body: (ExactTileStep) throws -> T) throws -> T {
        guard recomputes else { return try body(step) }
        defer { step.release() }
        _ = try step.forward(window: image.cropped(to: step.tile.window.relative(to: band)))
        return try body(step)
    }

    /// The whole image's losses from every shard's summed partial sums and, unless
    /// `gradient: false`, the gradient on the interior at the point of the last `forwardSums`
    /// (complete with the wide halo; with the gradient exchange once `receiveGradients` added
    /// the other shards' rows).
    public func backward(global: ExactPartialSums, gradient wanted: Bool = true) throws -> LossBreakdown {
        let losses = try objective.losses(global)
        guard wanted else { return losses }
        let grams = try objective.globalGrams(global)
        var gradient = Tensor(channels: 3, height: interior.height, width: interior.width)
        switch scheme {
        case .wideHalo:
            for step in steps {
                gradient.paste(try withForward(step) { try $0.backward(globalGrams: grams) }, at: step.tile.interior.relative(to: interior))
            }
            contribution = nil
        case .gradientExchange:
            var sum = Tensor(channels: 3, height: band.height, width: band.width)
            for step in steps {
                sum.add(try withForward(step) { try $0.backwardContribution(globalGrams: grams) }, at: step.tile.window.relative(to: band))
            }
            gradient = sum.cropped(to: interior.relative(to: band))
            contribution = sum
        }
        self.gradient = gradient
        return losses
    }

    /// Gradient exchange: the last backward's gradient on rows other shards own (the band
    /// outside the interior).
    public func outgoingGradients() -> [PixelStrip] {
        guard let contribution else { return [] }
        let above = PixelRect(x: 0, y: band.y, width: band.width, height: interior.y - band.y)
        let below = PixelRect(x: 0, y: interior.maxY, width: band.width, height: band.maxY - interior.maxY)
        return [above, below].filter { $0.height > 0 }.map { PixelStrip(rect: $0, pixels: contribution.cropped(to: $0.relative(to: band))) }
    }

    /// Adds the parts of other shards' gradient strips that fall on the interior.
    public func receiveGradients(_ strips: [PixelStrip]) throws {
        for strip in strips {
            try check(strip, what: "gradient strip")
            let top = max(strip.rect.y, interior.y), bottom = min(strip.rect.maxY, interior.maxY)
            guard top < bottom else { continue }
            let rows = PixelRect(x: 0, y: top, width: interior.width, height: bottom - top)
            gradient.add(strip.pixels.cropped(to: rows.relative(to: strip.rect)), at: rows.relative(to: interior))
        }
    }

    /// The own rows' pixels (preprocessed), for the result and the optimiser.
    public var interiorPixels: Tensor { image.cropped(to: interior.relative(to: band)) }

    /// Replaces the own rows' pixels (the optimiser's new point).
    public func setInterior(_ pixels: Tensor) throws {
        guard pixels.channels == 3, pixels.width == interior.width, pixels.height == interior.height else {
            throw EngineError(.invalidArgument, "\(pixels.width)×\(pixels.height) pixels for shard \(shardIndex + 1)'s rows \(interior)")
        }
        image.paste(pixels, at: interior.relative(to: band))
    }

    /// The own rows other shards' windows read: the interior's first and last `halo` rows.
    public func outgoingStrips() -> [PixelStrip] {
        let halo = layout.halo
        guard halo > 0 else { return [] }
        let rects = 2 * halo >= interior.height ? [interior]   // the halo spans it: send it once
            : [PixelRect(x: 0, y: interior.y, width: interior.width, height: halo),
               PixelRect(x: 0, y: interior.maxY - halo, width: interior.width, height: halo)]
        return rects.map { PixelStrip(rect: $0, pixels: image.cropped(to: $0.relative(to: band))) }
    }

    /// Pastes the parts of neighbours' strips that lie in the band but outside the interior.
    public func receive(_ strips: [PixelStrip]) throws {
        for strip in strips {
            try check(strip, what: "edge strip")
            for y in strip.rect.rows where band.rows.contains(y) && !interior.rows.contains(y) {
                let row = PixelRect(x: 0, y: y, width: band.width, height: 1)
                image.paste(strip.pixels.cropped(to: row.relative(to: strip.rect)), at: row.relative(to: band))
            }
        }
    }

    private func check(_ strip: PixelStrip, what: String) throws {
        guard strip.pixels.channels == 3, strip.pixels.width == strip.rect.width, strip.pixels.height == strip.rect.height,
              strip.rect.x == 0, strip.rect.width == band.width, strip.rect.y >= 0, strip.rect.maxY <= objective.height else {
            throw EngineError(.invalidArgument, "a neighbour's \(what) \(strip.rect) does not fit band \(band)")
        }
    }
}

/// Rows of pixels (preprocessed CHW), or of gradient, sent between shards.
public struct PixelStrip: Sendable {
    public var rect: PixelRect
    public var pixels: Tensor

    public init(rect: PixelRect, pixels: Tensor) {
        self.rect = rect
        self.pixels = pixels
    }
}
