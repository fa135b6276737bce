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

/// Small BLAS-1 helpers in double-precision accumulation (cblas_dsdot), so that L-BFGS's inner
/// products stay accurate on million-element vectors.
enum VectorMath {
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        BLAS.dsdot(n, a, b)
    }

    /// y += alpha · x
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        BLAS.saxpy(n, alpha, x, y)
    }

    static func scale(_ alpha: Float, _ x: UnsafeMutablePointer<Float>, _ n: Int) {
        BLAS.sscal(n, alpha, x)
    }

    static func maxAbs(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m: Float = 0
        for i in 0..<n { m = max(m, abs(x[i])) }
        return m
    }

    static func sumAbs(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        BLAS.sasum(n, x)
    }
}
