public import Engine
public import Farm
import Foundation

/// Turns a tiled render into its DAG:
///
///     coarse ─────────┐
///                     ├─► tile-r0-c0 … tile-rN-cM ─► stitch        (independent)
///     style-targets ──┘   shard-1 … shard-K                       (exact)
///
/// `coarse` renders the whole image at a size one worker handles (coarse to fine);
/// `style-targets` computes each style's Grams at the output's scale, once; every tile starts
/// from the coarse pass resized to the output and renders its window (interior plus halo);
/// the coordinator stitches the windows into the output, row band by row band. In exact mode
/// the tiles are grouped into K shards of whole tile rows that run together as a gang (see
/// `CoordinatorService+Exact.swift`), and the stitch concatenates their bands. With
/// `--init content` there is no coarse pass.
///
/// Tiles refer to the results they need as `task:<key>`; the coordinator replaces that with
/// the result's blob reference when it hands the tile out.
public enum TiledPlanner {
    /// Tile borders fall on multiples of 16, VGG19's total stride: neighbouring tiles' feature
    /// maps then sit on the same grid as the whole image's.
    public static let alignment = 16
    public static let taskReference = "task:"
    public static let coarseKey = "coarse"
    public static let styleTargetsKey = "style-targets"
    public static let stitchKey = "stitch"
    public static let outputName = "output.png"
    public static let maximumTiles = 10_000
    /// Iterations between an exact job's checkpoints unless `--checkpoint-every` says otherwise.
    public static let defaultCheckpointEvery = 10

    /// The output size: `--size` as the longest side at the content's aspect ratio, or the
    /// explicit width and height.
    public static func outputSize(_ spec: TiledSpec, contentWidth: Int, contentHeight: Int) throws -> (width: Int, height: Int) {
        switch (spec.size, spec.width, spec.height) {
        case (let size?, nil, nil):
            guard (1...TileGrid.maxSide).contains(size) else {
                throw EngineError(.invalidArgument, "--size \(size) is out of range 1…\(TileGrid.maxSide)")
            }
            return Resampler.size(fittingLongestSide: size, width: contentWidth, height: contentHeight)
        case (nil, let width?, let height?):
            guard (1...TileGrid.maxSide).contains(width), (1...TileGrid.maxSide).contains(height) else {
                throw EngineError(.invalidArgument, "--size \(width)x\(height) is out of range: each side 1…\(TileGrid.maxSide)")
            }
            return (width, height)
        default:
            throw EngineError(.invalidArgument, "give the output size once: --size N (longest side) or --size WxH")
        }
    }

    public static func halo(_ spec: TiledSpec) -> Int {
        spec.halo ?? min(64, (spec.tile / 4 + alignment - 1) / alignment * alignment)
    }

    /// - Parameter capacity: exact mode: the workers the shards are sized for (their count and
    ///   memory); `.unknown` (the client's own check) sizes them as if workers were plentiful.
    public static func plan(_ spec: TiledSpec, contentWidth: Int, contentHeight: Int,
                            maximumTiles: Int = maximumTiles, capacity: ExactCapacity = .unknown) throws -> [PlannedTask] {
        try refuseUnsupportedOptions(spec.base)
        let (width, height) = try outputSize(spec, contentWidth: contentWidth, contentHeight: contentHeight)
        guard spec.tile >= 64, spec.tile % alignment == 0 else {
            throw EngineError(.invalidArgument, "--tile \(spec.tile) must be a multiple of \(alignment), at least 64 (e.g. 256 or 512)")
        }
        guard spec.bitDepth == 8 || spec.bitDepth == 16 else {
            throw EngineError(.invalidArgument, "--bit-depth must be 8 or 16, got \(spec.bitDepth)")
        }
        let longest = max(width, height)
        // From the content, or from a coarse pass (coarse to fine) of the whole image.
        let fromContent = spec.base.initialization == "content"
        var tasks: [PlannedTask] = []
        if !fromContent {
            var coarse = spec.base
            coarse.size = min(spec.coarseSize ?? 512, longest)
            coarse.iterations = spec.coarseIterations ?? spec.base.iterations
            if spec.mode == .exact {
                // An exact job's --scale-sizes are its own stages, not the coarse pass's.
                coarse.scaleSizes = nil
                coarse.scaleIterations = nil
            }
            if coarse.scales == nil && coarse.scaleSizes == nil && (coarse.size ?? 0) >= 256 { coarse.scales = 2 }
            coarse.threads = nil
            _ = try validated(coarse, "the coarse pass")
            tasks.append(PlannedTask(key: coarseKey, kind: .coarse, parameters: [], request: coarse, dependsOn: [], outputName: "coarse.png"))
        }

        if spec.mode == .exact {
            return tasks + (try planExact(spec, width: width, height: height, fromContent: fromContent, capacity: capacity))
        }

        // The tiles' and targets' options: the output's size, one stage, no pixel limit below
        // the output (each worker holds only a window of it).
        var output = spec.base
        output.size = longest
        output.scales = nil
        output.scaleSizes = nil
        output.scaleIterations = nil
        output.threads = nil
        output.maxPixels = max(spec.base.maxPixels ?? ImageLimits.defaultMaxPixels, longest * longest)
        output.initialization = fromContent ? "content" : taskReference + coarseKey
        _ = try validated(output, "a tile")
        // The targets read the styles only: no starting image (and so no reference to the
        // coarse pass, which they do not wait for and which a worker could not resolve).
        var targets = output
        targets.initialization = "content"
        tasks.append(try PlannedTask(key: styleTargetsKey, kind: .styleTargets, parameters: [], request: targets, dependsOn: [],
                                     outputName: "style-targets.grams",
                                     order: .styleTargets(StyleTargetsOrder(render: targets, outputWidth: width, outputHeight: height))))
        let inputs = tasks.map(\.key)

        let halo = halo(spec)
        guard (0...spec.tile).contains(halo) else {
            throw EngineError(.invalidArgument, "--halo \(halo) must be 0…\(spec.tile) (the tile size)")
        }
        let grid = try TileGrid(width: width, height: height, tileSize: spec.tile, halo: halo, alignment: alignment)
        guard grid.count <= maximumTiles else {
            throw EngineError(.invalidArgument, "\(width)×\(height) in tiles of \(spec.tile) makes \(grid.count) tiles, more than \(maximumTiles); use a larger --tile")
        }
        for tile in grid.tiles {
            tasks.append(try PlannedTask(key: tile.position.key, kind: .tile, parameters: [], request: output, dependsOn: inputs,
                                         outputName: "tiles/\(tile.position.key).png",
                                         order: .tile(TileOrder(render: output, outputWidth: width, outputHeight: height,
                                                                interior: tile.interior, window: tile.window,
                                                                styleTargetsPath: taskReference + styleTargetsKey))))
        }
        var stitch = PlannedTask(key: stitchKey, kind: .stitch, parameters: [], request: output, dependsOn: [], outputName: outputName)
        stitch.storedRequest = try JSONEncoder().encode(StitchPlan(width: width, height: height, tile: spec.tile, halo: halo,
                                                                   bitDepth: spec.bitDepth))
        stitch.dependsOn = tasks.filter { $0.kind == .tile }.map(\.key)
        tasks.append(stitch)
        return tasks
    }

    /// The layers an exact job's windows must be exact for: content layers, then style layers.
    public static func tappedLayers(_ settings: RenderSettings) -> [String] {
        var layers = settings.contentLayers.map(\.layer)
        for layer in settings.styleLayers.flatMap({ $0.map(\.layer) }) where !layers.contains(layer) { layers.append(layer) }
        return layers
    }

    /// Options a tile cannot honour on its own, refused with what to do instead.
    static func refuseUnsupportedOptions(_ request: RenderRequest) throws {
        if let masks = request.maskPaths, masks.contains(where: { $0 != RenderRequest.noMask }) {
            throw EngineError(.invalidArgument, "style masks are not supported in tiled renders yet; render without --mask")
        }
        if let preserve = request.preserveColor, preserve != .off {
            throw EngineError(.invalidArgument, "--preserve-color is not supported in tiled renders yet; render without it")
        }
        if let denoise = request.denoise, denoise > 0 {
            throw EngineError(.invalidArgument, "--denoise works on the whole image and is not supported in tiled renders; render without it")
        }
        if let initialization = request.initialization, initialization != "content" {
            throw EngineError(.invalidArgument, "a tiled render starts from its coarse pass, or with --init content from the content; --init \(initialization) is not supported")
        }
    }

    static func validated(_ request: RenderRequest, _ what: String) throws -> RenderSettings {
        do {
            var probe = request
            if probe.initialization?.hasPrefix(taskReference) == true { probe.initialization = "content" }
            return try probe.resolve()
        } catch let error as EngineError {
            throw EngineError(error.code, "\(what): \(error.message)", cause: error.cause)
        }
    }
}
