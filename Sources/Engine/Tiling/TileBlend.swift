internal import Foundation

/// How overlapping tile windows are mixed where they meet.
///
/// Along each axis, two neighbouring tiles overlap on the strip both windows cover (2 × halo
/// pixels, centred on their border, less at the image edge). Across that strip one tile's
/// weight falls from 1 to 0 while the other's rises from 0 to 1, with complementary ramps
/// (`ramp(t) + ramp(1 - t) = 1`), so the two weights add up to 1; a tile's weight is the
/// product of its horizontal and vertical weights. `BandStitcher` still divides by the sum of
/// the weights, which makes any remaining rounding, and grids whose halo is wider than a tile,
/// come out as a proper weighted mean. Outside the overlaps a pixel has one tile, weight 1:
/// its value is that tile's, exactly.
public enum TileBlend: String, Sendable, Hashable, CaseIterable, Codable {
    /// `0.5 - 0.5·cos(π·t)`: flat at both ends, so the seam has no kink in its slope. Default.
    case raisedCosine = "raised-cosine"
    /// `t`: a straight crossfade.
    case linear
    /// No blending: each pixel comes from the tile whose interior holds it. The halo is
    /// rendered and then thrown away. For comparison, and for exact-mode tiles that agree.
    case hardCut = "hard-cut"

    /// The weight at `t`, where `t` runs from 0 at the far edge of the overlap (the neighbour's
    /// side) to 1 at the near edge (this tile's side). Clamped outside 0…1.
    func ramp(_ t: Double) -> Float {
        let t = min(max(t, 0), 1)
        switch self {
        case .raisedCosine: return Float(0.5 - 0.5 * cos(.pi * t))
        case .linear, .hardCut: return Float(t)
        }
    }

    /// The weights of one tile along one axis, one per window pixel.
    ///
    /// - Parameters:
    ///   - window: the tile's window along this axis.
    ///   - interior: the tile's interior along this axis.
    ///   - before: the strip shared with the previous tile (its window's end is the strip's
    ///     end), or nil at the image edge.
    ///   - after: the strip shared with the next tile, or nil at the image edge.
    func axisWeights(window: Range<Int>, interior: Range<Int>, before: Range<Int>?, after: Range<Int>?) -> [Float] {
        window.map { i in
            if self == .hardCut { return interior.contains(i) ? 1 : 0 }
            let centre = Double(i) + 0.5
            var weight: Float = 1
            if let before, !before.isEmpty {
                weight *= ramp((centre - Double(before.lowerBound)) / Double(before.count))
            }
            if let after, !after.isEmpty {
                weight *= ramp((Double(after.upperBound) - centre) / Double(after.count))
            }
            return weight
        }
    }
}
