public import Engine
public import Logging

/// Runs one farm task on this worker: resolves the request's `blob:<sha256>` inputs to files in
/// the local blob cache, renders with the worker's thread budget, batches loss-log lines for
/// streaming, and returns the PNG and summary.
public struct TaskRunner: Sendable {
    public static let blobScheme = "blob:"

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
        var paths = [request.contentPath] + request.stylePaths + (request.maskPaths ?? [])
        if let initialization = request.initialization { paths.append(initialization) }
        var seen: [String] = []
        for path in paths where path.hasPrefix(blobScheme) {
            let sha = String(path.dropFirst(blobScheme.count))
            if !seen.contains(sha) { seen.append(sha) }
        }
        return seen
    }

    /// Blobs the request needs that this worker does not have yet.
    public func missingBlobs(for request: RenderRequest) -> [String] {
        Self.blobReferences(in: request).filter { blobs.path(of: $0) == nil }
    }

    /// The request with blob references replaced by cache paths.
    public func localRequest(_ request: RenderRequest) throws -> RenderRequest {
        func local(_ path: String) throws -> String {
            guard path.hasPrefix(Self.blobScheme) else { return path }
            let sha = String(path.dropFirst(Self.blobScheme.count))
            guard let file = blobs.path(of: sha) else {
                throw EngineError(.io, "input blob \(sha) is not in this worker's cache \(blobs.root)")
            }
            return file
        }
        var r = request
        r.contentPath = try local(r.contentPath)
        r.stylePaths = try r.stylePaths.map(local)
        r.maskPaths = try r.maskPaths?.map(local)
        if let initialization = r.initialization { r.initialization = try local(initialization) }
        r.threads = threads
        return r
    }

    /// Renders the task. `onProgress` receives batches of iterations: every iteration while
    /// iterations are slow, at most one batch per `batchSeconds` otherwise (so a fast 64-pixel
    /// task does not flood the coordinator), and always the last.
    public func run(_ request: RenderRequest, batchSeconds: Double = 0.5,
                    isCancelled: @escaping @Sendable () -> Bool = { false },
                    onProgress: ([RenderProgress]) throws -> Void = { _ in }) throws -> Output {
        let settings = try localRequest(request).resolve()
        var pending: [RenderProgress] = []
        var lastFlush = 0.0
        let result = try Renderer(settings: settings, network: network, logger: logger).run(isCancelled: isCancelled) { record in
            pending.append(record)
            if record.elapsed - lastFlush >= batchSeconds || record.iteration == record.iterations {
                try onProgress(pending)
                pending.removeAll(keepingCapacity: true)
                lastFlush = record.elapsed
            }
        }
        if !pending.isEmpty { try onProgress(pending) }
        return Output(png: try ImageFile.encodePNG(result.image), summary: result.summary)
    }
}
