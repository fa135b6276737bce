/// One worker's part of an exact tiled render across the farm: a band of whole tile rows.
///
/// The shard holds the image's pixels over its tiles' windows (`band`: full width, its tile
/// rows grown by the halo); its own tiles' interiors (`interior`) are its to optimise, the rows
/// above and below belong to its neighbours and are refreshed after every step from the
/// pixels they send (`outgoingStrips` / `receive`). Each step:
///
/// 1. `forward()`: every own tile's window forward pass, partial sums added in tile order;
/// 2. the coordinator adds every shard's sums (in shard order) and sends them back;
/// 3. `step(global:)`: the whole image's losses from the sums, every own tile's exact
///    interior gradient (wide-halo scheme), an Adam step on every interior;
/// 4. edge pixels out, neighbours' edge pixels in.
///
/// This is `ExactTiledOptimizer` cut into bands, so it is the whole-image Adam render up to
/// float rounding of the summation order.
public final class ExactShard {
    public let objective: TiledObjective
    public let layout: TileWindowLayout
    public let shardIndex: Int
    public let shardCount: Int
    /// The rows of the whole image this shard holds, and the rows it owns (both full width).
    public let band: PixelRect
    public let interior: PixelRect
    /// The band's pixels, preprocessed CHW.
    public private(set) var image: Tensor
    let steps: [ExactTileStep]
    let optimizers: [TileAdam]
    var gradients: [Tensor] = []

    /// Tile rows per shard: as even as possible, earlier shards taking the remainder.
    public static func tileRows(rows: Int, shards: Int, index: Int) -> Range<Int> {
        let base = rows / shards, extra = rows % shards
        let start = index * base + min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }

    /// The band and interior rows of shard `index` of `count` in `layout`.
    public static func rows(layout: TileWindowLayout, shards count: Int, index: Int) -> (band: PixelRect, interior: PixelRect) {
        let rows = tileRows(rows: layout.rows, shards: count, index: index)
        let own = layout.tiles.filter { rows.contains($0.row) }
        let top = own.map(\.interior.y).min()!, bottom = own.map(\.interior.maxY).max()!
        let bandTop = own.map(\.window.y).min()!, bandBottom = own.map(\.window.maxY).max()!
        return (PixelRect(x: 0, y: bandTop, width: layout.imageWidth, height: bandBottom - bandTop),
                PixelRect(x: 0, y: top, width: layout.imageWidth, height: bottom - top))
    }

    /// - Parameters:
    ///   - content, initial: the content and starting images over `band` (preprocessed).
    public init(network: VGG19Network, objective: TiledObjective, layout: TileWindowLayout, shards count: Int, index: Int,
                content: Tensor, initial: Tensor, adam: Adam.Settings, threads: Int) throws {
        guard count >= 1, count <= layout.rows, (0..<count).contains(index) else {
            throw EngineError(.invalidArgument, "shard \(index + 1) of \(count) does not fit \(layout.rows) tile rows; use at most \(layout.rows) shards")
        }
        let (band, interior) = Self.rows(layout: layout, shards: count, index: index)
        for (name, t) in [("content", content), ("initial", initial)] where t.width != band.width || t.height != band.height {
            throw EngineError(.invalidArgument, "the \(name) band is \(t.width)×\(t.height); shard \(index + 1)'s band is \(band)")
        }
        self.objective = objective
        self.layout = layout
        shardIndex = index
        shardCount = count
        self.band = band
        self.interior = interior
        image = initial
        let rows = Self.tileRows(rows: layout.rows, shards: count, index: index)
        let own = layout.tiles.filter { rows.contains($0.row) }
        steps = try own.map {
            try ExactTileStep(network: network, objective: objective, layout: layout, tile: $0.index,
                              contentWindow: content.cropped(to: $0.window.relative(to: band)), scheme: .wideHalo, threads: threads)
        }
        optimizers = own.map { TileAdam(dimension: 3 * $0.interior.pixelCount, settings: adam) }
    }

    /// Every own tile's forward pass on the current band; their partial sums, added in tile order.
    public func forward() throws -> ExactPartialSums {
        try ExactPartialSums.sum(steps.map { try $0.forward(window: image.cropped(to: $0.tile.window.relative(to: band))) })
    }

    /// The whole image's losses from every shard's summed partial sums, and the exact gradient
    /// of every own interior at the point of the last `forward`, kept for `update()`.
    public func backward(global: ExactPartialSums) throws -> LossBreakdown {
        let grams = try objective.globalGrams(global)
        gradients = try steps.map { try $0.backward(globalGrams: grams) }
        return try objective.losses(global)
    }

    /// One Adam step on every own interior along the gradients of the last `backward`.
    public func update() throws {
        guard gradients.count == steps.count else { throw EngineError(.failed, "update before backward on shard \(shardIndex + 1)") }
        for (index, step) in steps.enumerated() {
            let rect = step.tile.interior.relative(to: band)
            var pixels = image.cropped(to: rect)
            pixels.withUnsafeMutableBufferPointer { x in
                gradients[index].withUnsafeBufferPointer { g in optimizers[index].update(x.baseAddress!, gradient: g.baseAddress!) }
            }
            image.paste(pixels, at: rect)
        }
        gradients = []
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
            guard strip.pixels.channels == 3, strip.pixels.width == strip.rect.width, strip.pixels.height == strip.rect.height,
                  strip.rect.x == 0, strip.rect.width == band.width else {
                throw EngineError(.invalidArgument, "a neighbour's edge strip \(strip.rect) does not fit band \(band)")
            }
            for y in strip.rect.rows where band.rows.contains(y) && !interior.rows.contains(y) {
                let row = PixelRect(x: 0, y: y, width: band.width, height: 1)
                image.paste(strip.pixels.cropped(to: row.relative(to: strip.rect)), at: row.relative(to: band))
            }
        }
    }

    /// The own rows' pixels (preprocessed), for the result.
    public var interiorPixels: Tensor { image.cropped(to: interior.relative(to: band)) }
}

/// Rows of pixels (preprocessed CHW) sent between shards.
public struct PixelStrip: Sendable {
    public var rect: PixelRect
    public var pixels: Tensor

    public init(rect: PixelRect, pixels: Tensor) {
        self.rect = rect
        self.pixels = pixels
    }
}
