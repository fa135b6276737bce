/// Adapts the style-transfer objective to the optimizers: keeps the losses of the last
/// evaluation, refuses non-finite values, and honours cancellation between evaluations.
final class ObjectiveFunction: DifferentiableFunction {
    let objective: StyleTransferObjective
    let isCancelled: @Sendable () -> Bool
    private(set) var lastLosses: LossBreakdown?
    private(set) var evaluations = 0

    init(objective: StyleTransferObjective, isCancelled: @escaping @Sendable () -> Bool) {
        self.objective = objective
        self.isCancelled = isCancelled
    }

    var dimension: Int { objective.inputCount }

    func evaluate(_ x: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>) throws -> Double {
        if isCancelled() { throw EngineError(.cancelled, "render cancelled") }
        let losses = objective.evaluate(x, gradient: gradient)
        evaluations += 1
        lastLosses = losses
        return losses.total
    }
}
