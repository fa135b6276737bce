/// `LBFGS` with its vectors cut into shards: each shard keeps its slice of x, g and the history
/// pairs, and every scalar the algorithm needs comes from dot products summed over shards in
/// ONE round per iteration (the "vector-free" L-BFGS of Chen, Wang & Zhou, "Large-scale L-BFGS
/// using MapReduce", NIPS 2014). The basis is the history's s and y vectors and the gradient;
/// the shards keep the matrix of their dot products (the same on every shard: it comes from
/// the coordinator's sums), the two-loop recursion runs on that matrix as coefficients of the
/// basis, and each shard forms its slice of the direction from its slices of the basis.
///
/// Everything else is `LBFGS`'s, decision for decision: PyTorch's direction (pairs kept when
/// yᵀs > 1e-10, the oldest dropped when the history is full, initial scale yᵀs/yᵀy, the first
/// iteration's step min(1, 1/‖g‖₁) and its pair never kept), the Armijo backtracking on the global loss, the restarts and the stopping
/// tests. Each shard takes the same decisions because it sees the same scalars; the result is
/// `stylefarm render --optimizer lbfgs`'s up to the rounding of the sums' order.
final class ShardLBFGS {
    let settings: LBFGS.Settings
    let dimension: Int
    private let math: VectorMath
    /// The point, its gradient slice and its loss.
    private(set) var x: [Float]
    private(set) var gradient: [Float]
    private(set) var loss = 0.0
    private(set) var losses: LossBreakdown?
    /// The history, oldest first: vector ids of s and y, their slices, 1/(yᵀs).
    private var pairs: [(s: Int, y: Int, sValues: [Float], yValues: [Float], curvature: Double)] = []
    private var gradientID = 0
    private var nextID = 1
    /// Dot products of basis vectors by id pair (smaller id first), summed over shards.
    private var dots: [Pair: Double] = [:]
    private var hessianScale = 1.0
    private(set) var iterations = 0
    private var gradientMaxAbs = 0.0
    private var gradientSumAbs = 0.0

    struct Pair: Hashable { var a: Int, b: Int
        init(_ i: Int, _ j: Int) { (a, b) = (min(i, j), max(i, j)) }
    }

    /// One evaluation of the global objective at a point: its losses, and this shard's slice of
    /// the gradient.
    typealias Evaluate = (_ x: [Float]) throws -> (losses: LossBreakdown, gradient: [Float])
    /// One `dots` round: this shard's partial sums and maxima in, the global ones out.
    typealias Reduce = (ShardReductions) throws -> ShardReductions

    init(x: [Float], settings: LBFGS.Settings) {
        self.settings = settings
        dimension = x.count
        self.x = x
        gradient = [Float](repeating: 0, count: x.count)
        math = VectorMath(threads: settings.threads)
    }

    private func dot(_ i: Int, _ j: Int) -> Double { dots[Pair(i, j)] ?? 0 }

    /// Evaluates at x and gathers ‖g‖², ‖g‖₁ and max|g|.
    func start(evaluate: Evaluate, reduce: Reduce) throws -> LossBreakdown {
        let (losses, g) = try evaluate(x)
        try adopt(gradient: g, losses: losses)
        let global = try reduce(ShardReductions(sums: [localDot(gradient, gradient), localSumAbs(gradient)], maxes: [localMaxAbs(gradient)]))
        dots = [Pair(gradientID, gradientID): global.sums[0]]
        gradientSumAbs = global.sums[1]
        gradientMaxAbs = global.maxes[0]
        iterations = 0
        return losses
    }

    private func adopt(gradient g: [Float], losses: LossBreakdown) throws {
        guard g.count == dimension else { throw EngineError(.failed, "a gradient slice of \(g.count) values for \(dimension) unknowns") }
        gradient = g
        loss = losses.total
        self.losses = losses
    }

    /// `LBFGS.iterate`, sharded.
    func iterate(evaluate: Evaluate, reduce: Reduce) throws -> (outcome: IterationOutcome, losses: LossBreakdown?) {
        if gradientMaxAbs <= Double(settings.gradientTolerance) {
            return (IterationOutcome(loss: loss, evaluations: 0, converged: true), nil)
        }
        var coefficients = direction()
        var slope = coefficients.reduce(0) { $0 + $1.value * dot(gradientID, $1.key) }
        if !(slope < 0) {
            resetHistory()
            coefficients = direction()
            slope = coefficients.reduce(0) { $0 + $1.value * dot(gradientID, $1.key) }
        }
        var (step, scaledFirstStep) = settings.initialStep(iteration: iterations) { gradientSumAbs }
        let wasSteepestDescent = pairs.isEmpty
        let d = slice(of: coefficients)

        var evaluations = 0
        var accepted: (point: [Float], losses: LossBreakdown, gradient: [Float])?
        var lastLosses: LossBreakdown?
        for _ in 0...settings.maxBacktracks {
            var trial = x
            trial.withUnsafeMutableBufferPointer { t in d.withUnsafeBufferPointer { math.axpy(Float(step), $0.baseAddress!, t.baseAddress!, dimension) } }
            let (losses, g) = try evaluate(trial)
            evaluations += 1
            lastLosses = losses
            if losses.total.isFinite && losses.total <= loss + settings.armijo * step * slope {
                accepted = (trial, losses, g)
                break
            }
            step *= 0.5
        }
        guard let accepted else {
            resetHistory()
            return (IterationOutcome(loss: loss, evaluations: evaluations, converged: wasSteepestDescent), lastLosses)
        }

        var s = [Float](repeating: 0, count: dimension), y = [Float](repeating: 0, count: dimension)
        for i in 0..<dimension {
            s[i] = accepted.point[i] - x[i]
            y[i] = accepted.gradient[i] - gradient[i]
        }
        if pairs.count == settings.history { forget(pairs.removeFirst()) }
        let (sID, yID, gID) = (nextID, nextID + 1, nextID + 2)
        nextID += 3
        // One round: the new vectors against the kept history and each other, ‖g‖₁, max|g|, max|s|.
        let old = pairs.flatMap { [($0.s, $0.sValues), ($0.y, $0.yValues)] }
        let new = [(sID, s), (yID, y), (gID, accepted.gradient)]
        var keys: [Pair] = [], sums: [Double] = []
        for (i, (id, values)) in new.enumerated() {
            for (other, otherValues) in old + new[...i] {
                keys.append(Pair(id, other))
                sums.append(localDot(values, otherValues))
            }
        }
        sums.append(localSumAbs(accepted.gradient))
        let global = try reduce(ShardReductions(sums: sums, maxes: [localMaxAbs(accepted.gradient), localMaxAbs(s)]))
        for (key, value) in zip(keys, global.sums) { dots[key] = value }
        let ys = dot(yID, sID)
        if ys > 1e-10 && !scaledFirstStep {
            pairs.append((sID, yID, s, y, 1 / ys))
            hessianScale = ys / dot(yID, yID)
        } else {
            dots = dots.filter { ![sID, yID].contains($0.key.a) && ![sID, yID].contains($0.key.b) }
        }
        dots = dots.filter { $0.key.a != gradientID && $0.key.b != gradientID }
        gradientID = gID
        gradientSumAbs = global.sums[keys.count]
        gradientMaxAbs = global.maxes[0]
        let stepSize = global.maxes[1]

        let change = abs(accepted.losses.total - loss)
        x = accepted.point
        try adopt(gradient: accepted.gradient, losses: accepted.losses)
        iterations += 1
        let converged = change < settings.changeTolerance || stepSize < settings.changeTolerance
        return (IterationOutcome(loss: loss, evaluations: evaluations, converged: converged), accepted.losses)
    }

    /// d = −H·g by the two-loop recursion, as coefficients of the basis vectors.
    private func direction() -> [Int: Double] {
        var c: [Int: Double] = [gradientID: -1]
        func dotWithD(_ id: Int) -> Double { c.reduce(0) { $0 + $1.value * dot(id, $1.key) } }
        var alphas = [Double](repeating: 0, count: pairs.count)
        for i in stride(from: pairs.count - 1, through: 0, by: -1) {
            alphas[i] = dotWithD(pairs[i].s) * pairs[i].curvature
            c[pairs[i].y, default: 0] -= alphas[i]
        }
        if !pairs.isEmpty { c = c.mapValues { $0 * hessianScale } }
        for i in pairs.indices {
            let b = dotWithD(pairs[i].y) * pairs[i].curvature
            c[pairs[i].s, default: 0] += alphas[i] - b
        }
        return c
    }

    /// This shard's slice of Σ cᵢ·bᵢ.
    private func slice(of coefficients: [Int: Double]) -> [Float] {
        var d = [Float](repeating: 0, count: dimension)
        var vectors: [Int: [Float]] = [gradientID: gradient]
        for pair in pairs { vectors[pair.s] = pair.sValues; vectors[pair.y] = pair.yValues }
        d.withUnsafeMutableBufferPointer { d in
            for (id, c) in coefficients.sorted(by: { $0.key < $1.key }) where c != 0 {
                vectors[id]?.withUnsafeBufferPointer { math.axpy(Float(c), $0.baseAddress!, d.baseAddress!, dimension) }
            }
        }
        return d
    }

    private func forget(_ pair: (s: Int, y: Int, sValues: [Float], yValues: [Float], curvature: Double)) {
        dots = dots.filter { ![pair.s, pair.y].contains($0.key.a) && ![pair.s, pair.y].contains($0.key.b) }
    }

    private func resetHistory() {
        for pair in pairs { forget(pair) }
        pairs.removeAll()
        hessianScale = 1
    }

    private func localDot(_ a: [Float], _ b: [Float]) -> Double {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in math.dot(a.baseAddress!, b.baseAddress!, dimension) } }
    }

    private func localSumAbs(_ a: [Float]) -> Double { a.withUnsafeBufferPointer { math.sumAbs($0.baseAddress!, dimension) } }
    private func localMaxAbs(_ a: [Float]) -> Double { Double(a.withUnsafeBufferPointer { math.maxAbs($0.baseAddress!, dimension) }) }

    // MARK: checkpoints

    func save(into checkpoint: inout ExactShardCheckpoint) {
        checkpoint.floats["x"] = x
        checkpoint.floats["g"] = gradient
        for (i, pair) in pairs.enumerated() {
            checkpoint.floats["s\(i)"] = pair.sValues
            checkpoint.floats["y\(i)"] = pair.yValues
        }
        checkpoint.doubles["pairs"] = pairs.flatMap { [Double($0.s), Double($0.y), $0.curvature] }
        let keys = dots.keys.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
        checkpoint.doubles["dots"] = keys.flatMap { [Double($0.a), Double($0.b), dots[$0] ?? 0] }
        checkpoint.doubles["styleLosses"] = losses?.styles ?? []
        checkpoint.scalars.merge(["loss": loss, "content": losses?.content ?? 0, "tv": losses?.tv ?? 0, "hessianScale": hessianScale,
                                  "iterations": Double(iterations), "gradientID": Double(gradientID), "nextID": Double(nextID),
                                  "gradientMaxAbs": gradientMaxAbs, "gradientSumAbs": gradientSumAbs]) { $1 }
    }

    func restore(from checkpoint: ExactShardCheckpoint) throws {
        func failure(_ why: String) -> EngineError { EngineError(.invalidArgument, "the L-BFGS checkpoint does not fit this shard: \(why)") }
        guard let x = checkpoint.floats["x"], let g = checkpoint.floats["g"], x.count == dimension, g.count == dimension,
              let pairList = checkpoint.doubles["pairs"], pairList.count % 3 == 0, pairList.count / 3 <= settings.history,
              let dotList = checkpoint.doubles["dots"], dotList.count % 3 == 0 else { throw failure("missing or mis-sized arrays") }
        func id(_ value: Double) throws -> Int {
            guard value >= 0, value < 1e15, value == value.rounded() else { throw failure("id \(value)") }
            return Int(value)
        }
        var pairs: [(s: Int, y: Int, sValues: [Float], yValues: [Float], curvature: Double)] = []
        for i in 0..<(pairList.count / 3) {
            guard let s = checkpoint.floats["s\(i)"], let y = checkpoint.floats["y\(i)"],
                  s.count == dimension, y.count == dimension else { throw failure("history pair \(i)") }
            pairs.append((try id(pairList[3 * i]), try id(pairList[3 * i + 1]), s, y, pairList[3 * i + 2]))
        }
        var dots: [Pair: Double] = [:]
        for i in 0..<(dotList.count / 3) { dots[Pair(try id(dotList[3 * i]), try id(dotList[3 * i + 1]))] = dotList[3 * i + 2] }
        let s = checkpoint.scalars
        guard let loss = s["loss"], let iterations = s["iterations"], let gradientID = s["gradientID"], let nextID = s["nextID"],
              let hessianScale = s["hessianScale"], let maxAbs = s["gradientMaxAbs"], let sumAbs = s["gradientSumAbs"] else {
            throw failure("missing scalars")
        }
        self.x = x
        gradient = g
        self.pairs = pairs
        self.dots = dots
        self.loss = loss
        self.iterations = try id(iterations)
        self.gradientID = try id(gradientID)
        self.nextID = try id(nextID)
        self.hessianScale = hessianScale
        gradientMaxAbs = maxAbs
        gradientSumAbs = sumAbs
        losses = LossBreakdown(total: loss, content: s["content"] ?? 0, styles: checkpoint.doubles["styleLosses"] ?? [], tv: s["tv"] ?? 0)
    }
}
