public import Engine
public import Farm
import Foundation

/// The workers an exact job's shards are sized for, as the coordinator sees them when it plans
/// the submission.
public struct ExactCapacity: Sendable, Equatable {
    /// The memory a shard may use when neither `--worker-memory` nor a connected worker says.
    public static let defaultWorkerMemory = 2 << 30
    /// Nothing known (the client's own check before it sends the job): as many shards as tile
    /// rows, and the memory check only against an explicit `--worker-memory`.
    public static let unknown = ExactCapacity(workers: nil, smallestMemory: nil)

    /// Connected workers that can run shards; nil when unknown.
    public var workers: Int?
    /// The smallest memory one of them announced, in bytes; nil when none announced any.
    public var smallestMemory: Int?

    public init(workers: Int?, smallestMemory: Int?) {
        self.workers = workers
        self.smallestMemory = smallestMemory
    }
}

/// One stage of an exact job as planned: what job.json's `exact.stages` lists.
public struct ExactStagePlan: Sendable, Equatable, Codable {
    /// 1-based; the last stage renders the output.
    public var stage: Int
    public var width: Int
    public var height: Int
    public var iterations: Int
    public var shards: Int
    /// Windows across each shard's band (1 with the wide halo).
    public var columns: Int
    /// `wide-halo` or `gradient-exchange`.
    public var scheme: String
    /// `ExactMemoryModel`'s peak for the largest shard, in MiB.
    public var predictedPeakMb: Int
}

extension TiledPlanner {
    /// The most coarse-to-fine stages an exact job may have.
    public static let maximumExactStages = 6
    /// The most windows across one shard's band.
    public static let maximumColumns = 64

    /// Keys of stage `stage` of `count`: the last stage keeps the single-stage keys
    /// (`style-targets`, `shard-k`, `stitch`), earlier ones are suffixed (`style-targets-s`,
    /// `shard-s-k`, `stitch-s`).
    public static func styleTargetsKey(stage: Int, of count: Int) -> String {
        stage == count ? styleTargetsKey : "\(styleTargetsKey)-\(stage)"
    }

    public static func shardKey(stage: Int, of count: Int, index: Int) -> String {
        stage == count ? "shard-\(index + 1)" : "shard-\(stage)-\(index + 1)"
    }

    public static func stitchKey(stage: Int, of count: Int) -> String {
        stage == count ? stitchKey : "\(stitchKey)-\(stage)"
    }

    /// The image an intermediate stage's stitch writes (16-bit), in the job's folder.
    public static func stageImageName(_ stage: Int) -> String { "stage-\(stage).png" }

    /// The stages of an exact job: `--scale-sizes` (the last being the output's longest side),
    /// each scaling both sides of the output; one stage, the output, without them.
    public static func exactStages(_ spec: TiledSpec, width: Int, height: Int) throws -> [(width: Int, height: Int, iterations: Int?)] {
        let longest = max(width, height)
        guard let sizes = spec.base.scaleSizes, !sizes.isEmpty else { return [(width, height, spec.base.iterations)] }
        let listed = sizes.map(String.init).joined(separator: ",")
        guard sizes.count <= maximumExactStages else {
            throw EngineError(.invalidArgument, "--scale-sizes \(listed) gives \(sizes.count) stages; an exact job has at most \(maximumExactStages)")
        }
        guard zip(sizes, sizes.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw EngineError(.invalidArgument, "--scale-sizes \(listed) must be ascending: each stage renders the whole image larger than the one before")
        }
        guard sizes.last == longest else {
            throw EngineError(.invalidArgument, "--scale-sizes \(listed) must end with the output's longest side, \(longest) (the last stage renders the output)")
        }
        if let counts = spec.base.scaleIterations, counts.count != sizes.count {
            throw EngineError(.invalidArgument, "--scale-iterations gives \(counts.count) counts for \(sizes.count) stages (\(listed)); give one per stage")
        }
        return try sizes.enumerated().map { index, size in
            guard size >= spec.tile else {
                throw EngineError(.invalidArgument, "stage \(index + 1) of --scale-sizes \(listed) is \(size) px, smaller than one \(spec.tile)-px tile; start at \(spec.tile) or more, or use a smaller --tile")
            }
            let (w, h) = size == longest ? (width, height) : Resampler.size(fittingLongestSide: size, width: width, height: height)
            return (w, h, spec.base.scaleIterations?[index] ?? spec.base.iterations)
        }
    }

    /// An exact job's tasks after the coarse pass (if any): per stage its style targets, its
    /// shards (sized by the memory model for `capacity`) and its stitch. Stage 1 starts where a
    /// single-stage job starts (the content or the coarse pass), each later stage from the
    /// stitch of the one before, which every shard resizes to its stage window by window.
    static func planExact(_ spec: TiledSpec, width: Int, height: Int, fromContent: Bool,
                          capacity: ExactCapacity) throws -> [PlannedTask] {
        let stages = try exactStages(spec, width: width, height: height)
        let count = stages.count
        let every = spec.checkpointEvery ?? defaultCheckpointEvery
        guard every >= 0 else { throw EngineError(.invalidArgument, "--checkpoint-every \(every) must be 0 (none) or more") }
        if let shards = spec.shards, shards < 1 { throw EngineError(.invalidArgument, "--shards \(shards) must be 1 or more, or auto") }
        let budget = spec.workerMemory ?? capacity.smallestMemory ?? (capacity.workers == nil ? nil : ExactCapacity.defaultWorkerMemory)
        var tasks: [PlannedTask] = []
        for (offset, stage) in stages.enumerated() {
            let number = offset + 1
            let longest = max(stage.width, stage.height)
            var output = spec.base
            output.size = longest
            output.iterations = stage.iterations
            output.scales = nil
            output.scaleSizes = nil
            output.scaleIterations = nil
            output.threads = nil
            output.maxPixels = max(spec.base.maxPixels ?? ImageLimits.defaultMaxPixels, longest * longest)
            output.initialization = number > 1 ? taskReference + stitchKey(stage: number - 1, of: count)
                : fromContent ? "content" : taskReference + coarseKey
            // Exact mode runs Adam unless L-BFGS is asked for (its dot products are summed across shards).
            if output.optimizer == nil { output.optimizer = .adam }
            let what = count == 1 ? "a shard" : "stage \(number)'s shards"
            let settings = try validated(output, what)
            // The targets read the styles only: no starting image (and so no reference to the
            // coarse pass or an earlier stage, which they do not wait for).
            var targets = output
            targets.initialization = "content"
            let targetsKey = styleTargetsKey(stage: number, of: count)
            tasks.append(try PlannedTask(key: targetsKey, kind: .styleTargets, parameters: [], request: targets, dependsOn: [],
                                         outputName: number == count ? "style-targets.grams" : "style-targets-\(number).grams",
                                         order: .styleTargets(StyleTargetsOrder(render: targets, outputWidth: stage.width, outputHeight: stage.height))))
            let start = number > 1 ? [stitchKey(stage: number - 1, of: count)] : fromContent ? [] : [coarseKey]
            let sizing = try shardSizing(spec, settings: settings, width: stage.width, height: stage.height, budget: budget,
                                         workers: capacity.workers, stage: count == 1 ? nil : number, last: number == count)
            var keys: [String] = []
            for index in 0..<sizing.shards {
                let key = shardKey(stage: number, of: count, index: index)
                keys.append(key)
                tasks.append(try PlannedTask(key: key, kind: .shard, parameters: [], request: output, dependsOn: start + [targetsKey],
                                             outputName: "shards/\(key).png",
                                             order: .shard(ShardOrder(render: output, outputWidth: stage.width, outputHeight: stage.height,
                                                                      tile: spec.tile, halo: sizing.halo, shardIndex: index,
                                                                      shardCount: sizing.shards, styleTargetsPath: taskReference + targetsKey,
                                                                      scheme: sizing.scheme,
                                                                      columns: sizing.scheme == .gradientExchange ? sizing.columns : nil,
                                                                      checkpointEvery: every > 0 ? every : nil,
                                                                      stage: count == 1 ? nil : number))))
            }
            let last = number == count
            var stitch = PlannedTask(key: stitchKey(stage: number, of: count), kind: .stitch, parameters: [], request: output,
                                     dependsOn: keys, outputName: last ? outputName : stageImageName(number))
            stitch.storedRequest = try JSONEncoder().encode(StitchPlan(width: stage.width, height: stage.height, tile: spec.tile, halo: 0,
                                                                       bitDepth: last ? spec.bitDepth : 16, bands: keys,
                                                                       preview: last ? nil : false))
            tasks.append(stitch)
        }
        return tasks
    }

    /// How one stage's shards are cut: their count, scheme, halo and windows across.
    struct ShardSizing {
        var shards: Int
        var scheme: ExactTileStep.Scheme
        var halo: Int
        var columns: Int
        var peak: Int
    }

    /// Shards: with `--shards auto`, the tile rows or the connected workers (at least 1),
    /// whichever are fewer; an explicit `--shards` is kept (the gang waits for that many
    /// workers, as it always has: a job submitted before its workers connect is not cut
    /// smaller), except that an earlier stage with fewer tile rows takes one shard a row. The scheme: `ExactSchemeCost`'s choice, except that a wide halo that does not
    /// fit `budget` gives way to the gradient exchange (unless asked for by name). Columns:
    /// the fewest windows across (1…64) whose largest shard's predicted peak
    /// (`ExactMemoryModel`, recomputing graphs when more than one) fits `budget`; refused with
    /// the figures when none does. Without a budget, one column.
    static func shardSizing(_ spec: TiledSpec, settings: RenderSettings, width: Int, height: Int, budget: Int?, workers: Int?,
                            stage: Int?, last: Bool = true) throws -> ShardSizing {
        let layers = tappedLayers(settings)
        let rows = try TileWindowLayout(width: width, height: height, tile: spec.tile, layers: layers, exactGradient: false).rows
        var shards = min(rows, max(1, workers ?? rows))
        if let asked = spec.shards {
            guard asked <= rows || !last else {
                throw EngineError(.invalidArgument, "--shards \(asked) must be 1…\(rows): each shard takes whole rows of tiles, and \(stage.map { "stage \($0)" } ?? "this image") (\(width)×\(height)) has \(rows)")
            }
            shards = min(rows, asked)
        }
        let choice = spec.exactScheme ?? .auto
        let cost = try ExactSchemeCost().choose(choice, width: width, height: height, tile: spec.tile, shards: shards, layers: layers,
                                                halo: spec.halo, lbfgs: settings.optimizer == .lbfgs)
        func peak(_ scheme: ExactTileStep.Scheme, halo: Int, columns: Int) throws -> Int {
            try (0..<shards).map {
                try ShardOrder.predictedPeakBytes(settings: settings, width: width, height: height, tile: spec.tile, halo: halo,
                                                  scheme: scheme, shards: shards, index: $0, columns: columns)
            }.max() ?? 0
        }
        let chosen = cost.chosen
        if chosen.scheme == .wideHalo {
            let wide = try peak(.wideHalo, halo: chosen.halo, columns: 1)
            if budget.map({ wide <= $0 }) ?? true {
                return ShardSizing(shards: shards, scheme: .wideHalo, halo: chosen.halo, columns: 1, peak: wide)
            }
            guard choice == .auto, let exchange = cost.estimates.first(where: { $0.scheme == .gradientExchange }) else {
                throw EngineError(.invalidArgument, "\(stage.map { "stage \($0): " } ?? "")the wide-halo scheme needs about \(wide >> 20) MiB a shard with \(shards) shards; the budget is \((budget ?? 0) >> 20) MiB. Use --exact-scheme auto or gradient-exchange, more workers, or more --worker-memory")
            }
            return try columnsFitting(budget: budget, shards: shards, scheme: exchange, width: width, height: height, stage: stage, peak: peak)
        }
        return try columnsFitting(budget: budget, shards: shards, scheme: chosen, width: width, height: height, stage: stage, peak: peak)
    }

    private static func columnsFitting(budget: Int?, shards: Int, scheme: ExactSchemeCost.Estimate, width: Int, height: Int, stage: Int?,
                                       peak: (ExactTileStep.Scheme, Int, Int) throws -> Int) throws -> ShardSizing {
        let one = try peak(.gradientExchange, scheme.halo, 1)
        guard let budget, one > budget else {
            return ShardSizing(shards: shards, scheme: .gradientExchange, halo: scheme.halo, columns: 1, peak: one)
        }
        // Windows no narrower than the alignment (the layers' total stride).
        let widest = min(maximumColumns, max(1, width / alignment))
        var least = one
        if widest >= 2 {
            for columns in 2...widest {
                let predicted = try peak(.gradientExchange, scheme.halo, columns)
                least = min(least, predicted)
                if predicted <= budget {
                    return ShardSizing(shards: shards, scheme: .gradientExchange, halo: scheme.halo, columns: columns, peak: predicted)
                }
            }
        }
        throw EngineError(.invalidArgument, "\(stage.map { "stage \($0) " } ?? "")(\(width)×\(height)) does not fit: with \(shards) shard\(shards == 1 ? "" : "s") a shard needs about \(one >> 20) MiB in one window and at least \(least >> 20) MiB in up to \(widest) windows across, over the \(budget >> 20) MiB budget. Connect more workers (each takes whole tile rows; \(shards) now), give them more memory (--worker-memory), or use a smaller size")
    }
}
