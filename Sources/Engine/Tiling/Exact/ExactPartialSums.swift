/// What one tile's forward pass contributes to the whole image's objective in exact mode: sums
/// over the activations (and pixel pairs) the tile owns, unnormalised, so that tiles add up.
public struct ExactPartialSums: Sendable, Codable, Equatable {
    /// Per style layer, `Σ F Fᵀ` over owned positions (C×C, row-major, symmetric).
    public var grams: [String: [Float]]
    /// Per content layer, `Σ (F − P)²` over owned positions and all channels.
    public var contentSquares: [String: Double]
    /// Σ of squared neighbour differences over the pixel pairs whose top/left pixel the tile owns.
    public var tv: Double

    public init(grams: [String: [Float]] = [:], contentSquares: [String: Double] = [:], tv: Double = 0) {
        self.grams = grams
        self.contentSquares = contentSquares
        self.tv = tv
    }

    /// The sum of every tile's partial sums: what the coordinator computes each step. Adds in the
    /// order given, so the result does not depend on which tile reported first if the caller
    /// orders by tile index.
    public static func sum(_ parts: [ExactPartialSums]) throws -> ExactPartialSums {
        var total = ExactPartialSums()
        for part in parts {
            for (layer, gram) in part.grams {
                if var sum = total.grams[layer] {
                    guard sum.count == gram.count else {
                        throw EngineError(.invalidArgument, "partial Gram sums for \(layer) disagree in size (\(sum.count) and \(gram.count) values)")
                    }
                    for i in sum.indices { sum[i] += gram[i] }
                    total.grams[layer] = sum
                } else {
                    total.grams[layer] = gram
                }
            }
            for (layer, squares) in part.contentSquares { total.contentSquares[layer, default: 0] += squares }
            total.tv += part.tv
        }
        return total
    }
}
