public import Engine

/// σ balancing (Froehling 2021, "Mixed Neural Style Transfer With Two Style Images"): from each
/// style's relative improvement RIᵢ = Lsᵢ(start)/Lsᵢ(end) in a calibration render, the styles
/// that improved less get σᵢ = sqrt(RI_strongest / RIᵢ), the strongest 1, so that in the sweep
/// every style improves alike. With two styles this is the paper's rule; with more, each is
/// balanced against the strongest.
public enum Balancing {
    public static func sigmas(relativeImprovements: [Double]) throws -> [Float] {
        guard let strongest = relativeImprovements.max(),
              relativeImprovements.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw EngineError(.numeric, "cannot balance styles from relative improvements \(relativeImprovements): each must be finite and > 0")
        }
        return relativeImprovements.map { Float((strongest / $0).squareRoot()) }
    }
}
