public import Engine

/// A tiled render of one large image, as submitted (`stylefarm submit tiled`).
public struct TiledSpec: Sendable, Codable, Equatable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Each tile optimised on its own against whole-output style targets, overlaps blended.
        case independent
        /// The whole image's loss, tiles synchronised every step.
        case exact
    }

    /// Content, styles and every render option; `size` is ignored (see `size`, `width`,
    /// `height`), `iterations` is each tile's and the coarse pass's.
    public var base: RenderRequest
    /// The output's longest side (aspect ratio of the content), or nil when `width` and
    /// `height` are given.
    public var size: Int?
    public var width: Int?
    public var height: Int?
    /// Tile interior side in pixels (a multiple of 16).
    public var tile: Int
    /// Context pixels around each tile; nil for the default (a quarter tile, at most 64).
    public var halo: Int?
    public var mode: Mode
    /// The coarse pass's longest side; nil for min(512, output).
    public var coarseSize: Int?
    /// Iterations of the coarse pass; nil for `base.iterations`.
    public var coarseIterations: Int?
    /// Exact mode: how many workers share the tile rows; nil (`--shards auto`) for as many as
    /// there are tile rows and connected workers that can run shards.
    public var shards: Int?
    /// Exact mode: the memory one shard may use, in bytes (`--worker-memory`); nil for the
    /// smallest a connected shard-capable worker announced, else `ExactCapacity.defaultWorkerMemory`.
    public var workerMemory: Int?
    /// Exact mode: how gradients are made exact (`ExactSchemeCost`); nil is `auto`.
    public var exactScheme: ExactSchemeCost.Choice?
    /// Exact mode: iterations between the shards' checkpoints (nil: 10; 0: none).
    public var checkpointEvery: Int?
    /// 8 or 16 bits per sample in the stitched PNG.
    public var bitDepth: Int
    public var priority: Int
    public var styleNames: [String]?

    public init(base: RenderRequest, size: Int? = nil, width: Int? = nil, height: Int? = nil, tile: Int, halo: Int? = nil,
                mode: Mode = .independent, shards: Int? = nil, coarseSize: Int? = nil, coarseIterations: Int? = nil,
                bitDepth: Int = 8, priority: Int = 0, exactScheme: ExactSchemeCost.Choice? = nil, checkpointEvery: Int? = nil,
                workerMemory: Int? = nil) {
        self.shards = shards
        self.workerMemory = workerMemory
        self.exactScheme = exactScheme
        self.checkpointEvery = checkpointEvery
        self.base = base
        self.size = size
        self.width = width
        self.height = height
        self.tile = tile
        self.halo = halo
        self.mode = mode
        self.coarseSize = coarseSize
        self.coarseIterations = coarseIterations
        self.bitDepth = bitDepth
        self.priority = priority
    }
}

/// What the coordinator needs to stitch a tiled job's output (the stitch task's stored request).
public struct StitchPlan: Sendable, Codable, Equatable {
    public var width: Int
    public var height: Int
    public var tile: Int
    public var halo: Int
    public var bitDepth: Int
    /// Exact mode: the shards' keys, top to bottom; their results are whole-width bands,
    /// concatenated rather than blended.
    public var bands: [String]? = nil
    /// Whether `preview.png` is written beside the PNG when it is large (nil: yes). An exact
    /// job's intermediate stages write none: the preview is the output's.
    public var preview: Bool? = nil

    /// The grid the tiles were cut by.
    public func grid() throws -> TileGrid {
        try TileGrid(width: width, height: height, tileSize: tile, halo: halo, alignment: TiledPlanner.alignment)
    }
}
