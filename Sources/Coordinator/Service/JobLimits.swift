/// What one submission may ask of the farm. Configured on the coordinator
/// (`--max-iterations`, `--max-pixels`…), never by the client: a client that raises
/// `maxPixels` in its spec only raises it up to these.
public struct JobLimits: Sendable, Equatable {
    /// Optimiser iterations of one stage of one task.
    public var maxIterations = 100_000
    /// Pixels one task renders at once (a render's or a stage's size², a tile's window, the
    /// coarse pass): what bounds a worker's memory.
    public var maxTaskPixels = 4096 * 4096
    /// Pixels of an input image (decoded by workers; only its header is read here).
    public var maxInputPixels = 100_000_000
    /// Tasks of one job.
    public var maxTasks = 10_000
    /// Coarse-to-fine stages of one render.
    public var maxStages = 16

    public init() {}
}
