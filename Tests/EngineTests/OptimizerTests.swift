import Testing
import TestSupport
@testable import Engine

/// f(x) = Σᵢ cᵢ (xᵢ − tᵢ)², minimum 0 at t; an ill-conditioned bowl (c from 1 to 100).
final class Quadratic: DifferentiableFunction {
    let target: [Float]
    let curvature: [Float]
    var evaluations = 0
    init(dimension: Int) {
        target = (0..<dimension).map { Float($0 % 7) - 3 }
        curvature = (0..<dimension).map { 1 + 99 * Float($0) / Float(max(dimension - 1, 1)) }
    }
    var dimension: Int { target.count }
    func evaluate(_ x: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>) throws -> Double {
        evaluations += 1
        var f = 0.0
        for i in 0..<dimension {
            let d = x[i] - target[i]
            f += Double(curvature[i] * d * d)
            gradient[i] = 2 * curvature[i] * d
        }
        return f
    }
}

/// Rosenbrock's banana in 2-D: minimum 0 at (1, 1), a curved valley that punishes bad steps.
final class Rosenbrock: DifferentiableFunction {
    var dimension: Int { 2 }
    func evaluate(_ x: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>) throws -> Double {
        let a = Double(x[0]), b = Double(x[1])
        gradient[0] = Float(-2 * (1 - a) - 400 * a * (b - a * a))
        gradient[1] = Float(200 * (b - a * a))
        return (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a)
    }
}

struct OptimizerTests {
    func run(_ optimizer: any IterativeOptimizer, _ function: any DifferentiableFunction, from start: [Float],
             iterations: Int) throws -> (x: [Float], losses: [Double]) {
        var x = start
        var losses: [Double] = []
        try x.withUnsafeMutableBufferPointer { xp in
            losses.append(try optimizer.start(xp.baseAddress!, function: function))
            for _ in 0..<iterations {
                let outcome = try optimizer.iterate(xp.baseAddress!, function: function)
                losses.append(outcome.loss)
                if outcome.converged { break }
            }
        }
        return (x, losses)
    }

    @Test func lbfgsFindsTheMinimumOfAnIllConditionedQuadratic() throws {
        let f = Quadratic(dimension: 50)
        let (x, losses) = try run(LBFGS(dimension: 50, settings: .init(history: 10)), f, from: [Float](repeating: 0, count: 50), iterations: 200)
        #expect(losses.last! < 1e-6)
        for (xi, ti) in zip(x, f.target) { #expect(abs(xi - ti) < 1e-3) }
        // The line search only ever accepts decreases.
        for (a, b) in zip(losses, losses.dropFirst()) { #expect(b <= a) }
    }

    @Test func lbfgsFollowsTheRosenbrockValleyToItsMinimum() throws {
        let (x, losses) = try run(LBFGS(dimension: 2, settings: .init(history: 10)), Rosenbrock(), from: [-1.2, 1], iterations: 500)
        #expect(losses.last! < 1e-6)
        #expect(abs(x[0] - 1) < 1e-2 && abs(x[1] - 1) < 1e-2)
    }

    @Test func lbfgsUsesAboutOneEvaluationPerIterationOnAWellScaledProblem() throws {
        let f = Quadratic(dimension: 20)
        let (_, losses) = try run(LBFGS(dimension: 20), f, from: [Float](repeating: 5, count: 20), iterations: 30)
        #expect(f.evaluations <= 2 * losses.count)
    }

    /// PyTorch's rule: only the first iteration's step is scaled by 1/‖g‖₁; the second starts at
    /// the learning rate. The scaled step's pair is dropped (on an image it is rounding noise),
    /// so the second iteration is a unit steepest-descent step: on Σ cᵢxᵢ² from 1 that is
    /// x₂ = x₁(1 − 2c), x₁ = 1 − 2c/‖g₀‖₁. Keeping the pair would have scaled it by yᵀs/yᵀy; taking
    /// the scaled step again would have left x₂ close to 1.
    @Test func lbfgsScalesOnlyItsFirstStepAndForgetsThatStepsPair() throws {
        final class Bowl: DifferentiableFunction {
            let c: [Double] = (0..<1000).map { 0.1 + 0.3 * Double($0) / 999 }
            var dimension: Int { c.count }
            func evaluate(_ x: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>) throws -> Double {
                var f = 0.0
                for i in c.indices {
                    f += c[i] * Double(x[i]) * Double(x[i])
                    gradient[i] = Float(2 * c[i] * Double(x[i]))
                }
                return f
            }
        }
        let bowl = Bowl()
        let (_, losses) = try run(LBFGS(dimension: 1000), bowl, from: [Float](repeating: 1, count: 1000), iterations: 2)
        let firstStep = 1 / bowl.c.reduce(0) { $0 + 2 * $1 }
        let expected = bowl.c.reduce(0) { f, c in
            let x2 = (1 - 2 * c * firstStep) * (1 - 2 * c)
            return f + c * x2 * x2
        }
        #expect(losses.count == 3)
        #expect(abs(losses[2] - expected) <= 1e-5 * expected, "after two iterations \(losses[2]), a unit steepest-descent step gives \(expected)")
    }

    @Test func adamFindsTheMinimumOfAQuadratic() throws {
        let f = Quadratic(dimension: 10)
        let (x, losses) = try run(Adam(dimension: 10, settings: .init(learningRate: 0.1, decay: 0.5, decayEvery: 300)), f,
                                  from: [Float](repeating: 0, count: 10), iterations: 2000)
        #expect(losses.last! < 1e-3)
        for (xi, ti) in zip(x, f.target) { #expect(abs(xi - ti) < 2e-2) }
    }

    @Test func adamLearningRateDecaysInSteps() {
        let adam = Adam(dimension: 1, settings: .init(learningRate: 12, decay: 0.6, decayEvery: 100))
        #expect(adam.learningRate(atStep: 0) == 12)
        #expect(adam.learningRate(atStep: 99) == 12)
        #expect(abs(adam.learningRate(atStep: 100) - 7.2) < 1e-5)
        #expect(abs(adam.learningRate(atStep: 250) - 12 * 0.36) < 1e-5)
    }

    @Test func adamFirstStepMovesEachCoordinateByTheLearningRate() throws {
        // With bias correction, Adam's first step is lr·sign(g) (up to ε).
        let f = Quadratic(dimension: 3)
        var x: [Float] = [10, -10, 10]
        let adam = Adam(dimension: 3, settings: .init(learningRate: 0.5))
        try x.withUnsafeMutableBufferPointer { xp in
            _ = try adam.start(xp.baseAddress!, function: f)
            _ = try adam.iterate(xp.baseAddress!, function: f)
        }
        #expect(abs(x[0] - 9.5) < 1e-4 && abs(x[1] + 9.5) < 1e-4 && abs(x[2] - 9.5) < 1e-4)
    }

    @Test func lbfgsSplitOverThreadsConvergesAndRepeatsExactly() throws {
        // Large enough (2^17) that dot products and updates are split into per-thread chunks.
        let n = 1 << 17
        func solve() throws -> [Float] {
            try run(LBFGS(dimension: n, settings: .init(history: 5, threads: 2)), Quadratic(dimension: n),
                    from: [Float](repeating: 0, count: n), iterations: 60).x
        }
        let first = try solve()
        let f = Quadratic(dimension: n)
        for i in stride(from: 0, to: n, by: 997) { #expect(abs(first[i] - f.target[i]) < 1e-2) }
        #expect(try solve() == first)
    }
}
