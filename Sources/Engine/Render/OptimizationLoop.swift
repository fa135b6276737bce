/// The optimiser loop a whole-image render (`Renderer`) and an independent tile
/// (`WindowRender`) share: L-BFGS or Adam from `x`, the losses at the start reported as
/// iteration 0 and after every iteration, stopping early when the optimiser converges. Each
/// record comes with a preview maker over `x` (read only, and only if the observer calls it).
enum OptimizationLoop {
    struct Outcome {
        var initialLosses: LossBreakdown
        /// The last record reported: its losses, iteration and evaluations are the final ones.
        var last: RenderProgress
        var stoppedEarly: String?
    }

    /// The optimiser the settings name, for `dimension` unknowns.
    static func optimizer(_ kind: RenderSettings.OptimizerKind, dimension: Int, learningRate: Float, decay: Float, decayEvery: Int,
                          lbfgsHistory: Int, threads: Int) -> any IterativeOptimizer {
        switch kind {
        case .lbfgs: LBFGS(dimension: dimension, settings: .init(history: lbfgsHistory, learningRate: learningRate, threads: threads))
        case .adam: Adam(dimension: dimension, settings: .init(learningRate: learningRate, decay: decay, decayEvery: decayEvery))
        }
    }

    /// Runs `iterations` iterations on `x`; `what` names the start in errors ("image", "window").
    static func run(_ x: inout Tensor, function: ObjectiveFunction, optimizer: any IterativeOptimizer, iterations: Int,
                    what: String, since start: ContinuousClock.Instant,
                    progress: PreviewingProgress) throws -> Outcome {
        var record = RenderProgress(iteration: 0, iterations: iterations, losses: LossBreakdown(total: 0, content: 0, styles: [], tv: 0),
                                    elapsed: 0, evaluations: 0)
        var stoppedEarly: String?
        let (width, height) = (x.width, x.height)
        let initialLosses: LossBreakdown = try x.withUnsafeMutableBufferPointer { xp in
            _ = try optimizer.start(xp.baseAddress!, function: function)
            guard let losses = function.lastLosses, losses.isFinite else {
                throw EngineError(.numeric, "the starting \(what) gives a non-finite loss; check the input images and weights")
            }
            record.losses = losses
            record.evaluations = function.evaluations
            record.elapsed = (ContinuousClock.now - start).seconds
            func preview(_ maxSide: Int) -> RenderPreview {
                RenderPreview.make(vgg: UnsafeBufferPointer(xp), width: width, height: height, maxSide: maxSide)
            }
            try progress(record, preview)

            for iteration in stride(from: 1, through: iterations, by: 1) {
                let outcome = try optimizer.iterate(xp.baseAddress!, function: function)
                guard outcome.loss.isFinite else {
                    throw EngineError(.numeric, "the loss became non-finite at iteration \(iteration); lower --lr or the loss weights")
                }
                // The last evaluation is the point the iteration ended on, unless the line search
                // rejected every trial (x did not move): then the previous losses still hold.
                if let last = function.lastLosses, last.total == outcome.loss { record.losses = last }
                record.iteration = iteration
                record.evaluations = function.evaluations
                record.elapsed = (ContinuousClock.now - start).seconds
                try progress(record, preview)
                if outcome.converged {
                    stoppedEarly = "converged after \(iteration) iterations (no further decrease possible)"
                    break
                }
            }
            return losses
        }
        return Outcome(initialLosses: initialLosses, last: record, stoppedEarly: stoppedEarly)
    }
}
