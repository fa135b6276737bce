/// The state after one iteration (iteration 0 is the starting point). In a coarse-to-fine
/// render `iteration`, `iterations`, `elapsed` and `evaluations` count over all stages, and
/// `stage` says where within its stage a record is.
public struct RenderProgress: Sendable, Codable, Equatable {
    public var iteration: Int
    public var iterations: Int
    public var losses: LossBreakdown
    /// Seconds since the optimisation started (target computation excluded).
    public var elapsed: Double
    /// Objective evaluations so far (L-BFGS line-search trials included).
    public var evaluations: Int
    /// nil when the render has a single stage.
    public var stage: Stage?

    public init(iteration: Int, iterations: Int, losses: LossBreakdown, elapsed: Double, evaluations: Int, stage: Stage? = nil) {
        self.iteration = iteration
        self.iterations = iterations
        self.losses = losses
        self.elapsed = elapsed
        self.evaluations = evaluations
        self.stage = stage
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
    /// Losses and RI are the optimiser's, before `--preserve-color luminance` and `--denoise`.
    /// In a coarse-to-fine render they are the last stage's (losses at different sizes do not
    /// compare), and `stages` has every stage's; `iterationsRun`, `evaluations` and the
    /// timings add up all stages.
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
    /// Every stage, coarse to fine (one for a single-size render).
    public var stages: [StageSummary] = []
    /// The ROF denoising of the finished image, when `--denoise` was given.
    public var denoising: ROFDenoiser.Report?
}
