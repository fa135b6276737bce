#if canImport(Glibc)
import Glibc
#endif

/// Adam's per-pixel state for one tile's interior. Adam is per-coordinate, so a tile that
/// applies these updates with the exact whole-image gradient of its pixels moves them exactly
/// as `Adam` moves them in a whole-image render: the arithmetic below is `Adam.iterate`'s,
/// operation for operation.
public final class TileAdam {
    public let settings: Adam.Settings
    public let dimension: Int
    private let firstMoment: FloatBuffer
    private let secondMoment: FloatBuffer
    public private(set) var step = 0

    public init(dimension: Int, settings: Adam.Settings) {
        precondition(dimension > 0 && settings.decayEvery > 0)
        self.settings = settings
        self.dimension = dimension
        firstMoment = FloatBuffer(count: dimension)
        secondMoment = FloatBuffer(count: dimension)
    }

    /// The moments, for a checkpoint.
    public var moments: (first: [Float], second: [Float]) {
        (Array(UnsafeBufferPointer(start: firstMoment.base, count: dimension)),
         Array(UnsafeBufferPointer(start: secondMoment.base, count: dimension)))
    }

    /// Restores the state a checkpoint saved.
    public func restore(step: Int, first: [Float], second: [Float]) throws {
        guard step >= 0, first.count == dimension, second.count == dimension else {
            throw EngineError(.invalidArgument, "an Adam checkpoint of \(first.count) and \(second.count) values at step \(step) does not fit \(dimension) unknowns")
        }
        self.step = step
        first.withUnsafeBufferPointer { firstMoment.base.update(from: $0.baseAddress!, count: dimension) }
        second.withUnsafeBufferPointer { secondMoment.base.update(from: $0.baseAddress!, count: dimension) }
    }

    /// Moves `x` (the interior's pixels, CHW) one Adam step along `gradient`.
    public func update(_ x: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>) {
        let lr = settings.learningRate * pow(settings.decay, Float(step / settings.decayEvery))
        step += 1
        let b1 = settings.beta1, b2 = settings.beta2
        let correction1 = 1 - pow(b1, Float(step))
        let correction2 = 1 - pow(b2, Float(step))
        let stepSize = lr / correction1
        let eps = settings.epsilon
        let m = firstMoment.base, v = secondMoment.base
        for i in 0..<dimension {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            x[i] -= stepSize * m[i] / ((v[i] / correction2).squareRoot() + eps)
        }
    }
}
