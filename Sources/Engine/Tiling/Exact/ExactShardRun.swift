/// The rounds of an exact job's exchange (`ShardExchange` on the wire).
public enum ExactExchangePhase: String, Sendable, CaseIterable {
    case sums, pixels, gradients, dots, checkpoint
}

/// Runs one shard's optimisation in step with the job's other shards: Adam (`TileAdam` on the
/// shard's rows, which moves them exactly as a whole-image Adam render would) or L-BFGS
/// (`ShardLBFGS`). Every evaluation is a `pixels` round (the neighbours' current rows in), a
/// `sums` round and, with the gradient exchange, a `gradients` round; L-BFGS adds one `dots`
/// round per iteration. Every `checkpointEvery` iterations the shard's state goes out in a
/// `checkpoint` round, and a shard started from a checkpoint continues at its iteration.
/// Every shard makes the same rounds in the same order, so the coordinator can check them.
/// A checkpoint is also saved at the end of any iteration in which `checkpointRequested` says
/// a round's answer asked for one (a worker of the gang is stopping): every shard sees the same
/// answers, so all save at the same iteration, and the gang resumes there.
public struct ExactShardRun {
    public struct Settings: Sendable {
        public var optimizer: RenderSettings.OptimizerKind
        public var iterations: Int
        public var adam: Adam.Settings
        public var lbfgs: LBFGS.Settings
        /// 0: no checkpoints.
        public var checkpointEvery: Int

        public init(optimizer: RenderSettings.OptimizerKind, iterations: Int, adam: Adam.Settings, lbfgs: LBFGS.Settings,
                    checkpointEvery: Int = 0) {
            self.optimizer = optimizer
            self.iterations = iterations
            self.adam = adam
            self.lbfgs = lbfgs
            self.checkpointEvery = checkpointEvery
        }

        public init(_ settings: RenderSettings, checkpointEvery: Int = 0) {
            self.init(optimizer: settings.optimizer, iterations: settings.iterations,
                      adam: Adam.Settings(learningRate: settings.learningRate, decay: settings.learningRateDecay,
                                          decayEvery: settings.learningRateDecayEvery),
                      lbfgs: LBFGS.Settings(history: settings.lbfgsHistory, learningRate: settings.learningRate, threads: settings.threads),
                      checkpointEvery: checkpointEvery)
        }
    }

    public struct Outcome: Sendable {
        public var initialLosses: LossBreakdown
        public var finalLosses: LossBreakdown
        public var iterationsRun: Int
        public var evaluations: Int
        public var stoppedEarly: String?
        /// The checkpoint's iteration when the shard resumed from one.
        public var resumedAt: Int?
        public var checkpoints: Int
    }

    /// Sends this shard's bytes for a round and returns the coordinator's answer.
    public typealias Exchange = (ExactExchangePhase, [UInt8]) throws -> [UInt8]
    /// The losses after `iteration` (0: the start, or the checkpoint's iteration on resume).
    public typealias Progress = (_ iteration: Int, _ losses: LossBreakdown, _ evaluations: Int) throws -> Void

    public let shard: ExactShard
    public let settings: Settings
    let exchange: Exchange
    let isCancelled: () -> Bool
    let checkpointRequested: () -> Bool
    private var evaluations = 0

    /// `checkpointRequested` is asked once at the end of every iteration: true if an answer
    /// since the last time asked for a checkpoint (it forgets the request once it has said so).
    public init(shard: ExactShard, settings: Settings, isCancelled: @escaping () -> Bool = { false },
                checkpointRequested: @escaping () -> Bool = { false }, exchange: @escaping Exchange) {
        self.shard = shard
        self.settings = settings
        self.exchange = exchange
        self.isCancelled = isCancelled
        self.checkpointRequested = checkpointRequested
    }

    /// Runs to `settings.iterations`, from `resume` if given; the shard's rows hold the result.
    public mutating func run(resume: ExactShardCheckpoint? = nil, progress: Progress = { _, _, _ in }) throws -> Outcome {
        guard settings.iterations >= 0 else { throw EngineError(.invalidArgument, "iterations must not be negative") }
        if let resume {
            guard resume.shardIndex == shard.shardIndex, resume.shardCount == shard.shardCount,
                  resume.optimizer == settings.optimizer.rawValue, resume.iteration <= settings.iterations else {
                throw EngineError(.invalidArgument, "the checkpoint (shard \(resume.shardIndex + 1) of \(resume.shardCount), \(resume.optimizer), iteration \(resume.iteration)) does not fit shard \(shard.shardIndex + 1) of \(shard.shardCount) running \(settings.optimizer.rawValue) for \(settings.iterations) iterations")
            }
        }
        switch settings.optimizer {
        case .adam: return try runAdam(resume: resume, progress: progress)
        case .lbfgs: return try runLBFGS(resume: resume, progress: progress)
        }
    }

    /// One evaluation at `x` (the shard's rows): the global losses and, if `gradient`, the
    /// shard's slice of the gradient in `shard.gradient`.
    private mutating func evaluate(_ x: Tensor, gradient: Bool) throws -> LossBreakdown {
        if isCancelled() { throw EngineError(.cancelled, "cancelled") }
        try shard.setInterior(x)
        let limit = shard.objective.width * shard.objective.height
        try shard.receive(try ExactExchangeCodec.decodeStrips(try exchange(.pixels, ExactExchangeCodec.encode(shard.outgoingStrips())),
                                                          maxPixels: limit))
        let global = try ExactExchangeCodec.decodeSums(try exchange(.sums, try ExactExchangeCodec.encode(try shard.forwardSums())))
        let losses = try shard.backward(global: global, gradient: gradient)
        if gradient && shard.scheme == .gradientExchange {
            try shard.receiveGradients(try ExactExchangeCodec.decodeStrips(
                try exchange(.gradients, ExactExchangeCodec.encode(shard.outgoingGradients())), maxPixels: limit))
        }
        evaluations += 1
        return losses
    }

    private func finite(_ losses: LossBreakdown, at iteration: Int) throws -> LossBreakdown {
        guard losses.isFinite else {
            throw EngineError(.numeric, iteration == 0 ? "the starting image gives a non-finite loss"
                                                       : "the loss became non-finite at iteration \(iteration); lower --lr or the loss weights")
        }
        return losses
    }

    /// Whether to save a checkpoint at the end of `iteration`: every `checkpointEvery`, or on
    /// request. The request is asked for first and every time, so that each shard consumes it at
    /// the same iteration; none after the last iteration (the result is on its way).
    private func checkpointDue(_ iteration: Int) -> Bool {
        let requested = checkpointRequested()
        guard iteration < settings.iterations else { return false }
        return requested || (settings.checkpointEvery > 0 && iteration % settings.checkpointEvery == 0)
    }

    private func save(_ checkpoint: ExactShardCheckpoint) throws {
        let answer = try exchange(.checkpoint, try checkpoint.encoded())
        guard answer.isEmpty else { throw EngineError(.failed, "the coordinator answered a checkpoint with \(answer.count) bytes") }
    }

    private func blank(_ iteration: Int) -> ExactShardCheckpoint {
        ExactShardCheckpoint(iteration: iteration, shardIndex: shard.shardIndex, shardCount: shard.shardCount,
                             optimizer: settings.optimizer.rawValue)
    }

    private mutating func runAdam(resume: ExactShardCheckpoint?, progress: Progress) throws -> Outcome {
        let n = settings.iterations
        var x = shard.interiorPixels
        let adam = TileAdam(dimension: x.count, settings: settings.adam)
        var iteration = 0
        if let resume {
            guard let values = resume.floats["x"], values.count == x.count, let m = resume.floats["m"], let v = resume.floats["v"],
                  let step = resume.scalars["step"], step >= 0, step <= Double(Int32.max) else {
                throw EngineError(.invalidArgument, "the Adam checkpoint does not fit shard \(shard.shardIndex + 1)'s \(x.count) unknowns")
            }
            x = Tensor(channels: 3, height: x.height, width: x.width, values: values)
            try adam.restore(step: Int(step), first: m, second: v)
            iteration = resume.iteration
        }
        var losses = try finite(try evaluate(x, gradient: iteration < n), at: iteration)
        let initial = losses
        try progress(iteration, losses, evaluations)
        var checkpoints = 0
        while iteration < n {
            x.withUnsafeMutableBufferPointer { x in
                shard.gradient.withUnsafeBufferPointer { g in adam.update(x.baseAddress!, gradient: g.baseAddress!) }
            }
            iteration += 1
            losses = try finite(try evaluate(x, gradient: iteration < n), at: iteration)
            try progress(iteration, losses, evaluations)
            if checkpointDue(iteration) {
                var checkpoint = blank(iteration)
                checkpoint.floats["x"] = Array(x.values)
                (checkpoint.floats["m"], checkpoint.floats["v"]) = adam.moments
                checkpoint.scalars["step"] = Double(adam.step)
                try save(checkpoint)
                checkpoints += 1
            }
        }
        try shard.setInterior(x)
        return Outcome(initialLosses: initial, finalLosses: losses, iterationsRun: iteration, evaluations: evaluations,
                       stoppedEarly: nil, resumedAt: resume?.iteration, checkpoints: checkpoints)
    }

    private mutating func runLBFGS(resume: ExactShardCheckpoint?, progress: Progress) throws -> Outcome {
        let (height, width) = (shard.interior.height, shard.interior.width)
        let lbfgs = ShardLBFGS(x: Array(shard.interiorPixels.values), settings: settings.lbfgs)
        var me = self
        let evaluate: ShardLBFGS.Evaluate = { x in
            let losses = try me.evaluate(Tensor(channels: 3, height: height, width: width, values: x), gradient: true)
            return (losses, Array(me.shard.gradient.values))
        }
        let reduce: ShardLBFGS.Reduce = { try ShardReductions.decode(try me.exchange(.dots, try $0.encoded())) }
        var iteration = 0
        var losses: LossBreakdown
        if let resume {
            try lbfgs.restore(from: resume)
            iteration = resume.iteration
            losses = lbfgs.losses ?? LossBreakdown(total: lbfgs.loss, content: 0, styles: [], tv: 0)
        } else {
            losses = try finite(try lbfgs.start(evaluate: evaluate, reduce: reduce), at: 0)
        }
        let initial = losses
        try progress(iteration, losses, me.evaluations)
        var stoppedEarly: String?
        var checkpoints = 0
        while iteration < settings.iterations {
            let (outcome, last) = try lbfgs.iterate(evaluate: evaluate, reduce: reduce)
            guard outcome.loss.isFinite else {
                throw EngineError(.numeric, "the loss became non-finite at iteration \(iteration + 1); lower --lr or the loss weights")
            }
            iteration += 1
            if let last, last.total == outcome.loss { losses = last }
            try progress(iteration, losses, me.evaluations)
            if outcome.converged {
                stoppedEarly = "converged after \(iteration) iterations (no further decrease possible)"
                break
            }
            if checkpointDue(iteration) {
                var checkpoint = blank(iteration)
                lbfgs.save(into: &checkpoint)
                try save(checkpoint)
                checkpoints += 1
            }
        }
        try shard.setInterior(Tensor(channels: 3, height: height, width: width, values: lbfgs.x))
        evaluations = me.evaluations
        return Outcome(initialLosses: initial, finalLosses: losses, iterationsRun: iteration, evaluations: me.evaluations,
                       stoppedEarly: stoppedEarly, resumedAt: resume?.iteration, checkpoints: checkpoints)
    }
}
