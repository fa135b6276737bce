/// The state after one iteration (iteration 0 is the starting point).
public struct RenderProgress: Sendable, Codable, Equatable {
    public var iteration: Int
    public var iterations: Int
    public var losses: LossBreakdown
    /// Seconds since the optimisation started (target computation excluded).
    public var elapsed: Double
    /// Objective evaluations so far (L-BFGS line-search trials included).
    public var evaluations: Int

    public init(iteration: Int, iterations: Int, losses: LossBreakdown, elapsed: Double, evaluations: Int) {
        self.iteration = iteration
        self.iterations = iterations
        self.losses = losses
        self.elapsed = elapsed
        self.evaluations = evaluations
    }
}

/// What a finished render reports: the `--summary` JSON.
public struct RenderSummary: Sendable, Codable, Equatable {
    public struct Timings: Sendable, Codable, Equatable {
        /// Reading, decoding and resizing the images.
        public var loadSeconds: Double
        /// Forward passes over the content and style images for the targets.
        public var targetSeconds: Double
        public var optimizeSeconds: Double
        public var secondsPerIteration: Double
        public var totalSeconds: Double
    }

    public var settings: RenderSettings
    /// [width, height] of the rendered image and of each style image as used.
    public var contentSize: [Int]
    public var styleSizes: [[Int]]
    public var initialLosses: LossBreakdown
    public var finalLosses: LossBreakdown
    /// RIᵢ = styleᵢ(start) / styleᵢ(end), per style (Froehling 2021).
    public var relativeImprovement: [Double]
    public var iterationsRun: Int
    public var evaluations: Int
    /// Why the loop ended before `settings.iterations`, if it did.
    public var stoppedEarly: String?
    public var timings: Timings
    /// Peak resident memory of the process when the render finished.
    public var peakRssMb: Double
    public var blasCore: String
}
