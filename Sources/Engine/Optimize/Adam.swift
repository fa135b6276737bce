#if canImport(Glibc)
import Glibc
#endif

/// Adam (Kingma & Ba) with a staircase exponential learning-rate decay:
/// `lr_t = lr · decay^⌊t / decayEvery⌋` (Froehling 2021: lr 12, ×0.6 every 100 steps).
public final class Adam: IterativeOptimizer {
    public struct Settings: Sendable, Equatable, Codable {
        public var learningRate: Float = 1
        public var decay: Float = 1
        public var decayEvery = 100
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var epsilon: Float = 1e-8

        public init(learningRate: Float = 1, decay: Float = 1, decayEvery: Int = 100) {
            self.learningRate = learningRate
            self.decay = decay
            self.decayEvery = decayEvery
        }
    }

    public let settings: Settings
    public let dimension: Int
    private let gradient: FloatBuffer
    private let firstMoment: FloatBuffer
    private let secondMoment: FloatBuffer
    private var step = 0
    private var loss = 0.0

    public init(dimension: Int, settings: Settings = Settings()) {
        precondition(dimension > 0 && settings.decayEvery > 0)
        self.settings = settings
        self.dimension = dimension
        gradient = FloatBuffer(count: dimension)
        firstMoment = FloatBuffer(count: dimension)
        secondMoment = FloatBuffer(count: dimension)
    }

    public func learningRate(atStep t: Int) -> Float {
        settings.learningRate * pow(settings.decay, Float(t / settings.decayEvery))
    }

    public func start(_ x: UnsafeMutablePointer<Float>, function: any DifferentiableFunction) throws -> Double {
        step = 0
        firstMoment.base.update(repeating: 0, count: dimension)
        secondMoment.base.update(repeating: 0, count: dimension)
        loss = try function.evaluate(x, gradient: gradient.base)
        return loss
    }

    public func iterate(_ x: UnsafeMutablePointer<Float>, function: any DifferentiableFunction) throws -> IterationOutcome {
        let lr = learningRate(atStep: step)
        step += 1
        let b1 = settings.beta1, b2 = settings.beta2
        let correction1 = 1 - pow(b1, Float(step))
        let correction2 = 1 - pow(b2, Float(step))
        let stepSize = lr / correction1
        let eps = settings.epsilon
        let g = gradient.base, m = firstMoment.base, v = secondMoment.base
        for i in 0..<dimension {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            x[i] -= stepSize * m[i] / ((v[i] / correction2).squareRoot() + eps)
        }
        loss = try function.evaluate(x, gradient: gradient.base)
        return IterationOutcome(loss: loss, evaluations: 1, converged: false)
    }
}
