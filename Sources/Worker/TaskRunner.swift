public import Engine
public import Logging
public import Protocol
public import Farm
import Foundation

/// Runs one farm task on this worker: resolves the request's `blob:<sha256>` inputs to files in
/// the local blob cache, renders with the worker's thread budget, batches loss-log lines for
/// streaming, and returns the PNG and summary.
public struct TaskRunner: Sendable {

    public let network: VGG19Network
    public let blobs: BlobStore
    public let threads: Int
    public let logger: Logger

    public init(network: VGG19Network, blobs: BlobStore, threads: Int, logger: Logger = Logger(label: "stylefarm.worker")) {
        self.network = network
        self.blobs = blobs
        self.threads = max(1, threads)
        self.logger = logger
    }

    public struct Output: Sendable {
        public var png: [UInt8]
        public var summary: RenderSummary
    }

    /// Every blob the request refers to (content, styles, masks, an initial image).
    public static func blobReferences(in request: RenderRequest) -> [String] {
        blobReferences(in: .render(request))
    }

    /// Every blob the order refers to, each once (only well-formed references: anything else
    /// is refused by `localOrder`, never fetched or read).
    public static func blobReferences(in order: WorkOrder) -> [String] {
        var seen: [String] = []
        for path in order.inputPaths {
            guard let sha = BlobReference(path)?.sha256 else { continue }
            if !seen.contains(sha) { seen.append(sha) }
        }
        return seen
    }

    /// Blobs the request needs that this worker does not have yet.
    public func missingBlobs(for request: RenderRequest) -> [String] { missingBlobs(for: .render(request)) }

    public func missingBlobs(for order: WorkOrder) -> [String] {
        Self.blobReferences(in: order).filter { blobs.path(of: $0) == nil }
    }

    /// The request with blob references replaced by cache paths.
    public func localRequest(_ request: RenderRequest) throws -> RenderRequest {
        var r = try localOrder(.render(request)).request
        r.threads = threads
        return r
    }

    /// The order with blob references replaced by cache paths. An input named any other way
    /// (a path, `blob:../x`, an empty string) is refused: a worker reads only its blob cache,
    /// never a file a task names.
    public func localOrder(_ order: WorkOrder) throws -> WorkOrder {
        try order.mappingPaths { path in
            guard let blob = BlobReference(path) else {
                throw EngineError(.invalidArgument, "the task names an input '\(path.prefix(80))' that is not a blob reference; a worker reads only blobs sent by the coordinator")
            }
            guard let file = blobs.path(of: blob.sha256) else {
                throw EngineError(.io, "input \(blob) is not in this worker's cache \(blobs.root)")
            }
            return file
        }
    }

    /// Refuses a task that would not fit this machine's memory now, before allocating: a
    /// worker that aborts on allocation loses its other work and looks like a crash
    /// (`TaskFootprint`'s estimate; the coordinator already matched it to the announced memory).
    public func checkMemory(renderingSide side: Int) throws {
        let needed = TaskFootprint.bytes(forPixels: TaskFootprint.square(side))
        guard let available = MachineMemory.available() else { return }
        if needed.map({ $0 > available }) ?? true {
            throw EngineError(.failed, "the task needs about \(needed.map { "\($0 >> 20) MB" } ?? "more than any machine has") of memory at \(side)×\(side) pixels; this worker has \(available >> 20) MB available")
        }
    }

    /// What a finished task sends back: its result file, its summary, its last loss line.
    public struct Delivery: Sendable {
        /// A render's or tile's PNG (a tile's window as 16-bit), or a `StyleTargetsFile`.
        public var payload: [UInt8]
        public var summary: JSONValue
        public var final: RenderProgress
    }

    /// Runs any work order; progress is batched as in `run(_:)`, and with `previews` a batch
    /// now and then carries a small JPEG of the image being optimised (never of style targets).
    /// `exchange` carries an exact shard's rounds to the coordinator and back, and
    /// `checkpointRequested` says when one of its answers asked for a checkpoint.
    public func perform(_ order: WorkOrder, batchSeconds: Double = 0.5, previews: PreviewSettings? = nil,
                        isCancelled: @escaping @Sendable () -> Bool = { false },
                        checkpointRequested: @escaping @Sendable () -> Bool = { false },
                        exchange: (TileTaskRenderer.ExchangeRound, [UInt8]) throws -> [UInt8] = { _, _ in
                            throw EngineError(.failed, "this runner cannot exchange with other shards")
                        },
                        onProgress: (ProgressBatch) throws -> Void = { _ in }) throws -> Delivery {
        switch try localOrder(order) {
        case .render(var request):
            request.threads = threads
            let settings = try request.resolve()
            try checkMemory(renderingSide: settings.stageSizes.max() ?? 0)
            let output = try render(settings, batchSeconds: batchSeconds, previews: previews, isCancelled: isCancelled, onProgress: onProgress)
            let s = output.summary
            return Delivery(payload: output.png, summary: try JSONValue(encoding: s),
                            final: RenderProgress(iteration: s.iterationsRun, iterations: s.iterationsRun, losses: s.finalLosses,
                                                  elapsed: s.timings.optimizeSeconds, evaluations: s.evaluations))
        case .styleTargets(let targets):
            let (file, summary) = try TileTaskRenderer(network: network, logger: logger)
                .styleTargets(targets, threads: threads, isCancelled: isCancelled)
            return Delivery(payload: try file.encoded(), summary: try JSONValue(encoding: summary),
                            final: RenderProgress(iteration: 0, iterations: 0, losses: LossBreakdown(total: 0, content: 0, styles: [], tv: 0),
                                                  elapsed: summary.seconds, evaluations: 0))
        case .shard(let shard):
            var batcher = ProgressBatcher(seconds: batchSeconds, previews: previews)
            let (band, summary) = try TileTaskRenderer(network: network, logger: logger)
                .shard(shard, threads: threads, isCancelled: isCancelled, checkpointRequested: checkpointRequested, exchange: exchange) { try batcher.add($0, preview: $1, to: onProgress) }
            try batcher.flush(to: onProgress)
            return Delivery(payload: try ImageFile.encodePNG(band, bitDepth: 16), summary: try JSONValue(encoding: summary),
                            final: RenderProgress(iteration: summary.iterationsRun, iterations: summary.iterationsRun,
                                                  losses: summary.finalLosses, elapsed: summary.seconds, evaluations: summary.evaluations))
        case .tile(let tile):
            try checkMemory(renderingSide: max(tile.window.width, tile.window.height))
            var batcher = ProgressBatcher(seconds: batchSeconds, previews: previews)
            let (window, summary) = try TileTaskRenderer(network: network, logger: logger)
                .tile(tile, threads: threads, isCancelled: isCancelled) { try batcher.add($0, preview: $1, to: onProgress) }
            try batcher.flush(to: onProgress)
            // 16 bits: the stitched output may be 16-bit, and blending needs more than 8.
            return Delivery(payload: try ImageFile.encodePNG(window, bitDepth: 16), summary: try JSONValue(encoding: summary),
                            final: RenderProgress(iteration: summary.iterationsRun, iterations: summary.iterationsRun,
                                                  losses: summary.finalLosses, elapsed: summary.seconds, evaluations: summary.evaluations))
        }
    }

    /// Renders the task. `onProgress` receives batches of iterations: every iteration while
    /// iterations are slow, at most one batch per `batchSeconds` otherwise (so a fast 64-pixel
    /// task does not flood the coordinator), and always the last.
    public func run(_ request: RenderRequest, batchSeconds: Double = 0.5,
                    isCancelled: @escaping @Sendable () -> Bool = { false },
                    onProgress: ([RenderProgress]) throws -> Void = { _ in }) throws -> Output {
        try render(try localRequest(request).resolve(), batchSeconds: batchSeconds, previews: nil, isCancelled: isCancelled,
                   onProgress: { try onProgress($0.records) })
    }

    /// Renders settings whose inputs are already local files.
    private func render(_ settings: RenderSettings, batchSeconds: Double, previews: PreviewSettings?,
                        isCancelled: @escaping @Sendable () -> Bool, onProgress: (ProgressBatch) throws -> Void) throws -> Output {
        var batcher = ProgressBatcher(seconds: batchSeconds, previews: previews)
        let result = try Renderer(settings: settings, network: network, logger: logger).run(isCancelled: isCancelled, previewingProgress: { record, preview in
            try batcher.add(record, preview: preview, to: onProgress)
        })
        try batcher.flush(to: onProgress)
        return Output(png: try ImageFile.encodePNG(result.image), summary: result.summary)
    }
}
