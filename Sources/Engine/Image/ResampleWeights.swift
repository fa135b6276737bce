/// Precomputed weights for resampling one axis from `inputSize` to `outputSize` samples:
/// output sample `i` is the sum over `k < counts[i]` of
/// `weights[i * taps + k] × input[starts[i] + k]`. Each output's weights sum to 1.
struct ResampleWeights {
    let taps: Int
    let starts: [Int]
    let counts: [Int]
    let weights: [Float]

    init(inputSize: Int, outputSize: Int, filter: ResampleFilter) {
        let scale = Double(inputSize) / Double(outputSize)
        var spans: [(start: Int, weights: [Double])] = []
        spans.reserveCapacity(outputSize)
        for i in 0..<outputSize {
            spans.append(filter == .area
                ? Self.coverage(output: i, scale: scale, inputSize: inputSize)
                : Self.kernelWeights(output: i, scale: scale, inputSize: inputSize, filter: filter))
        }

        let taps = spans.map(\.weights.count).max() ?? 0
        var flat = [Float](repeating: 0, count: outputSize * taps)
        for (i, span) in spans.enumerated() {
            let total = span.weights.reduce(0, +)
            for (k, weight) in span.weights.enumerated() {
                flat[i * taps + k] = Float(total != 0 ? weight / total : 0)
            }
        }
        self.taps = taps
        self.starts = spans.map(\.start)
        self.counts = spans.map(\.weights.count)
        self.weights = flat
    }

    /// Pillow's `precompute_coeffs`: the kernel centred on the output pixel's centre mapped
    /// into the input, stretched by the scale factor when shrinking so that every input pixel
    /// contributes (antialiasing).
    private static func kernelWeights(
        output i: Int, scale: Double, inputSize: Int, filter: ResampleFilter
    ) -> (start: Int, weights: [Double]) {
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let centre = (Double(i) + 0.5) * scale
        let first = max(Int((centre - support + 0.5).rounded(.down)), 0)
        let end = min(Int((centre + support + 0.5).rounded(.down)), inputSize)
        let weights = (first..<max(end, first)).map { x in
            filter.kernel((Double(x) - centre + 0.5) / filterScale)
        }
        return (first, weights)
    }

    /// The fraction of each input pixel `[x, x + 1)` inside the output pixel's footprint
    /// `[i × scale, (i + 1) × scale)`.
    private static func coverage(output i: Int, scale: Double, inputSize: Int) -> (start: Int, weights: [Double]) {
        let low = Double(i) * scale
        let high = min(Double(i + 1) * scale, Double(inputSize))
        let first = min(Int(low.rounded(.down)), inputSize - 1)
        let end = max(min(Int(high.rounded(.up)), inputSize), first + 1)
        let weights = (first..<end).map { x in
            max(0, min(Double(x + 1), high) - max(Double(x), low))
        }
        return (first, weights)
    }
}
