/// A layer and the weight its loss term carries.
public struct WeightedLayer: Sendable, Codable, Equatable, Hashable {
    public var layer: String
    public var weight: Float

    public init(_ layer: String, _ weight: Float) {
        self.layer = layer
        self.weight = weight
    }
}

/// The losses of one evaluation.
///
/// `total` is the objective `α·content + β·Σᵢ wᵢσᵢ·styleᵢ + λ·tv`. The components are *not*
/// multiplied by α, β, wᵢ, σᵢ or λ (layer weights are applied): a style with weight 0 (γ = 0)
/// still reports how far the image is from it, which is what the relative improvement
/// RIᵢ = styleᵢ(start)/styleᵢ(end) of the γ-balancing study compares.
public struct LossBreakdown: Sendable, Codable, Equatable {
    public var total: Double
    public var content: Double
    public var styles: [Double]
    public var tv: Double

    public init(total: Double, content: Double, styles: [Double], tv: Double) {
        self.total = total
        self.content = content
        self.styles = styles
        self.tv = tv
    }

    public var isFinite: Bool { total.isFinite && content.isFinite && tv.isFinite && styles.allSatisfy(\.isFinite) }
}

extension LossBreakdown {
    /// Each style's relative improvement RIᵢ = styleᵢ(start)/styleᵢ(now) from `start` to these
    /// losses (∞ where a style's loss reached 0).
    public func relativeImprovement(since start: LossBreakdown) -> [Double] {
        zip(start.styles, styles).map { start, now in now > 0 ? start / now : .infinity }
    }
}
