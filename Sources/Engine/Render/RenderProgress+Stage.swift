extension RenderProgress {
    /// A record's place in a coarse-to-fine render.
    public struct Stage: Sendable, Codable, Equatable {
        /// 1 for the coarsest stage.
        public var index: Int
        public var count: Int
        public var width: Int
        public var height: Int
        /// The iteration within this stage (0 is its starting point) and the stage's planned count.
        public var iteration: Int
        public var iterations: Int
    }
}

/// One stage of a render, in the `--summary` JSON.
public struct StageSummary: Sendable, Codable, Equatable {
    /// [width, height] of this stage's image and of each style image as used in it.
    public var size: [Int]
    public var styleSizes: [[Int]]
    public var iterations: Int
    public var iterationsRun: Int
    public var evaluations: Int
    public var initialLosses: LossBreakdown
    public var finalLosses: LossBreakdown
    public var relativeImprovement: [Double]
    public var stoppedEarly: String?
    public var optimizeSeconds: Double

    /// The stage as its own single-size render summarised it.
    init(_ summary: RenderSummary) {
        size = summary.contentSize
        styleSizes = summary.styleSizes
        iterations = summary.settings.iterations
        iterationsRun = summary.iterationsRun
        evaluations = summary.evaluations
        initialLosses = summary.initialLosses
        finalLosses = summary.finalLosses
        relativeImprovement = summary.relativeImprovement
        stoppedEarly = summary.stoppedEarly
        optimizeSeconds = summary.timings.optimizeSeconds
    }
}
