/// A scalar function of a flat Float vector with its gradient: what the optimizers minimise.
public protocol DifferentiableFunction: AnyObject {
    var dimension: Int { get }
    /// Returns f(x) and writes ∇f(x) into `gradient` (`dimension` floats).
    func evaluate(_ x: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>) throws -> Double
}

/// What one optimizer iteration did.
public struct IterationOutcome: Sendable, Equatable {
    /// f at the point the iteration ended on.
    public var loss: Double
    /// Function evaluations this iteration used (line-search trials included).
    public var evaluations: Int
    /// True when the optimizer cannot make progress (gradient or step below tolerance); the
    /// caller should stop.
    public var converged: Bool
}

/// An iterative minimiser that updates `x` in place. `start` evaluates the starting point;
/// each `iterate` moves and evaluates the new point, so the loss it returns is f(x) after the move.
public protocol IterativeOptimizer: AnyObject {
    func start(_ x: UnsafeMutablePointer<Float>, function: any DifferentiableFunction) throws -> Double
    func iterate(_ x: UnsafeMutablePointer<Float>, function: any DifferentiableFunction) throws -> IterationOutcome
}

/// BLAS-1 helpers for the optimizers, split over a fixed number of threads. Dot products
/// accumulate in double precision (cblas_dsdot) per chunk and add the chunks in order, so a
/// result depends on the thread count but never on scheduling.
struct VectorMath {
    let threads: Int

    init(threads: Int) { self.threads = max(1, threads) }

    private func chunks(_ n: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachChunk(n, threads: threads, minimumChunk: 1 << 15, body)
    }

    func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        let parts = max(1, min(threads, n / (1 << 15)))
        if parts == 1 { return BLAS.dsdot(n, a, b) }
        var partial = [Double](repeating: 0, count: parts)
        partial.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            Parallel.forEachChunk(parts, threads: parts) { range in
                for part in range {
                    let start = n * part / parts, end = n * (part + 1) / parts
                    out[part] = BLAS.dsdot(end - start, a + start, b + start)
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// y += alpha · x
    func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        chunks(n) { r in BLAS.saxpy(r.count, alpha, x + r.lowerBound, y + r.lowerBound) }
    }

    func scale(_ alpha: Float, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        chunks(n) { r in BLAS.sscal(r.count, alpha, x + r.lowerBound) }
    }

    func maxAbs(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m: Float = 0
        for i in 0..<n { m = max(m, abs(x[i])) }
        return m
    }

    func sumAbs(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        BLAS.sasum(n, x)
    }
}
