public import Foundation
public import Engine

/// What a farm task asks a worker to do. A plain render (a sweep point, a tiled job's coarse
/// pass) travels as its `RenderRequest`, as it always has; the tiled job's other tasks carry an
/// `order` field that names them.
public enum WorkOrder: Sendable, Equatable {
    case render(RenderRequest)
    case styleTargets(StyleTargetsOrder)
    case tile(TileOrder)
    case shard(ShardOrder)

    /// The order a task's stored or transmitted JSON describes.
    public static func decode(_ json: Data) throws -> WorkOrder {
        struct Tag: Decodable { var order: String? }
        let decoder = JSONDecoder()
        switch try decoder.decode(Tag.self, from: json).order {
        case nil: return .render(try decoder.decode(RenderRequest.self, from: json))
        case StyleTargetsOrder.tag?: return .styleTargets(try decoder.decode(StyleTargetsOrder.self, from: json))
        case TileOrder.tag?: return .tile(try decoder.decode(TileOrder.self, from: json))
        case ShardOrder.tag?: return .shard(try decoder.decode(ShardOrder.self, from: json))
        case let other?: throw EngineError(.invalidArgument, "unknown work order '\(other)'; this worker knows render, \(StyleTargetsOrder.tag), \(TileOrder.tag) and \(ShardOrder.tag)")
        }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return switch self {
        case .render(let request): try encoder.encode(request)
        case .styleTargets(let order): try encoder.encode(order)
        case .tile(let order): try encoder.encode(order)
        case .shard(let order): try encoder.encode(order)
        }
    }

    /// The render options every kind of order carries.
    public var request: RenderRequest {
        switch self {
        case .render(let request): request
        case .styleTargets(let order): order.render
        case .tile(let order): order.render
        case .shard(let order): order.render
        }
    }

    /// Every file the order reads (render inputs, and a tile's style targets).
    public var inputPaths: [String] {
        var paths = [request.contentPath] + request.stylePaths + (request.maskPaths ?? [])
        if let initialization = request.initialization { paths.append(initialization) }
        if case .tile(let order) = self { paths.append(order.styleTargetsPath) }
        if case .shard(let order) = self { paths.append(order.styleTargetsPath) }
        if case .shard(let order) = self, let resume = order.resumePath { paths.append(resume) }
        return paths
    }

    /// The order with every input path passed through `map` (blob references to cache paths).
    public func mappingPaths(_ map: (String) throws -> String) rethrows -> WorkOrder {
        func mapped(_ request: RenderRequest) throws -> RenderRequest {
            var r = request
            r.contentPath = try map(r.contentPath)
            r.stylePaths = try r.stylePaths.map(map)
            r.maskPaths = try r.maskPaths?.map { $0 == RenderRequest.noMask ? $0 : try map($0) }
            if let initialization = r.initialization, !["content", "noise", "style"].contains(initialization) {
                r.initialization = try map(initialization)
            }
            return r
        }
        switch self {
        case .render(let request):
            return .render(try mapped(request))
        case .styleTargets(var order):
            order.render = try mapped(order.render)
            return .styleTargets(order)
        case .tile(var order):
            order.render = try mapped(order.render)
            order.styleTargetsPath = try map(order.styleTargetsPath)
            return .tile(order)
        case .shard(var order):
            order.render = try mapped(order.render)
            order.styleTargetsPath = try map(order.styleTargetsPath)
            order.resumePath = try order.resumePath.map(map)
            return .shard(order)
        }
    }
}

/// A tiled job's style targets: each style's Gram matrices at the scale that matches the whole
/// output (its pixel area, times `--style-scale`), computed window by window (`TiledGram`) so
/// that a 16K output's targets fit in a worker's memory. Computed once; every tile uses them.
public struct StyleTargetsOrder: Sendable, Codable, Equatable {
    public static let tag = "style-targets"
    public var order = Self.tag
    /// Styles, their layers and every option; `size` is the output's longest side.
    public var render: RenderRequest
    public var outputWidth: Int
    public var outputHeight: Int

    public init(render: RenderRequest, outputWidth: Int, outputHeight: Int) {
        self.render = render
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
    }
}

/// One tile of an independent-mode tiled job: render `window` of the `outputWidth`×
/// `outputHeight` image, starting from `render.initialization` (the coarse pass, resized to the
/// output) with the content at the output's size, against the job's style targets.
public struct TileOrder: Sendable, Codable, Equatable {
    public static let tag = "tile"
    public var order = Self.tag
    public var render: RenderRequest
    public var outputWidth: Int
    public var outputHeight: Int
    /// The pixels this tile owns, and the pixels it renders (interior plus halo).
    public var interior: PixelRect
    public var window: PixelRect
    /// The `StyleTargetsFile` of the job (a `blob:` reference until the worker resolves it).
    public var styleTargetsPath: String

    public init(render: RenderRequest, outputWidth: Int, outputHeight: Int, interior: PixelRect, window: PixelRect,
                styleTargetsPath: String) {
        self.render = render
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.interior = interior
        self.window = window
        self.styleTargetsPath = styleTargetsPath
    }
}

/// One shard of an exact-mode tiled job: tile rows `ExactShard.tileRows(rows:shards:index:)` of
/// the output, optimised with Adam in step with the job's other shards (`ExactShard`).
public struct ShardOrder: Sendable, Codable, Equatable {
    public static let tag = "exact-shard"
    public var order = Self.tag
    /// Every option; `iterations` are Adam steps, `initialization` the starting image.
    public var render: RenderRequest
    public var outputWidth: Int
    public var outputHeight: Int
    public var tile: Int
    /// nil for the least halo that makes every interior's gradient exact.
    public var halo: Int?
    public var shardIndex: Int
    public var shardCount: Int
    public var styleTargetsPath: String
    /// How gradients are made exact (`ExactTileStep.Scheme`); nil is `.wideHalo` (older orders).
    public var scheme: ExactTileStep.Scheme?
    /// Windows across each shard's band (gradient exchange; nil is 1: one window per shard).
    public var columns: Int?
    /// Iterations between checkpoints (nil or 0: none).
    public var checkpointEvery: Int?
    /// The checkpoint this shard resumes from (`ExactShardCheckpoint`; a `blob:` reference until
    /// the worker resolves it), nil to start from the starting image.
    public var resumePath: String?
    /// Coarse-to-fine exact jobs: the stage (1-based) this shard renders; nil for a job of one
    /// stage. Gangs, restarts and checkpoints never mix shards of different stages.
    public var stage: Int?

    /// The stage for grouping: 1 when the job has one.
    public var stageNumber: Int { stage ?? 1 }

    public init(render: RenderRequest, outputWidth: Int, outputHeight: Int, tile: Int, halo: Int?, shardIndex: Int,
                shardCount: Int, styleTargetsPath: String, scheme: ExactTileStep.Scheme? = nil, columns: Int? = nil,
                checkpointEvery: Int? = nil, resumePath: String? = nil, stage: Int? = nil) {
        self.stage = stage
        self.scheme = scheme
        self.columns = columns
        self.checkpointEvery = checkpointEvery
        self.resumePath = resumePath
        self.render = render
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.tile = tile
        self.halo = halo
        self.shardIndex = shardIndex
        self.shardCount = shardCount
        self.styleTargetsPath = styleTargetsPath
    }
}
