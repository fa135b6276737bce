/// One image Gram at one style layer and the styles compared with it: every unmasked style
/// reading the layer shares one slot (one Gram, one folded gradient, one `M × F` product per
/// evaluation however many styles there are); a masked style has a slot of its own, because
/// its Gram is of the mask-weighted features.
final class GramSlot {
    /// Indices into the objective's styles.
    let styles: [Int]
    /// The mask at this layer's resolution and its area Σm², for a masked style's slot.
    let mask: (weights: FloatBuffer, area: Float)?
    let gram: FloatBuffer
    /// Σᵢ coefficientᵢ·(G − Aᵢ): dL/dG of every style in the slot, folded into one matrix.
    let fold: FloatBuffer
    /// Whether the last evaluation folded a gradient here.
    var folded = false

    init(channels: Int, styles: [Int], mask: [Float]?) {
        self.styles = styles
        self.mask = mask.map { values in
            let buffer = FloatBuffer(count: values.count)
            values.withUnsafeBufferPointer { buffer.base.update(from: $0.baseAddress!, count: values.count) }
            return (buffer, Gram.area(of: buffer.base, positions: values.count))
        }
        gram = FloatBuffer(count: channels * channels)
        fold = FloatBuffer(count: channels * channels)
    }

    /// What the Gram is normalised by: n positions, or the mask's area (0 if it vanished here,
    /// which makes the Gram and its gradient 0).
    func normaliser(positions: Int) -> Float { mask.map(\.area) ?? Float(positions) }

    /// The image's Gram of `features` [C, n]; `scratch` holds at least C·n floats when masked.
    func computeGram(_ features: UnsafePointer<Float>, channels: Int, positions: Int,
                     scratch: UnsafeMutablePointer<Float>?, threads: Int) {
        folded = false
        if let mask {
            guard let scratch else { preconditionFailure("a masked Gram needs scratch") }
            Gram.computeMasked(features, mask: mask.weights.base, area: mask.area, channels: channels, positions: positions,
                               scratch: scratch, into: gram.base, threads: threads)
        } else {
            Gram.compute(features, channels: channels, positions: positions, into: gram.base)
        }
    }

    /// Σ (G − A)² against one style's target; with `coefficient` non-nil and non-zero also
    /// adds `coefficient·(G − A)` into the fold.
    func distance(to target: [Float], channels c: Int, folding coefficient: Float?) -> Double {
        let foldIt = coefficient.map { $0 != 0 } ?? false
        let k = coefficient ?? 0
        if foldIt && !folded { fold.base.update(repeating: 0, count: c * c) }
        let g = gram.base, f = fold.base
        var sum = 0.0
        target.withUnsafeBufferPointer { a in
            for row in 0..<c {
                var partial: Float = 0
                for col in 0..<c {
                    let i = row * c + col
                    let d = g[i] - a[i]
                    partial += d * d
                    if foldIt { f[i] += k * d }
                }
                sum += Double(partial)
            }
        }
        folded = folded || foldIt
        return sum
    }

    /// Adds the folded gradient's `M × F` (or `M × F·m²`) into `g`.
    func accumulateGradient(_ features: UnsafePointer<Float>, channels: Int, positions: Int,
                            scratch: UnsafeMutablePointer<Float>?, into g: UnsafeMutablePointer<Float>, threads: Int) {
        guard folded else { return }
        if let mask {
            guard let scratch else { preconditionFailure("a masked Gram needs scratch") }
            Gram.accumulateMaskedGradient(fold.base, features: features, mask: mask.weights.base, channels: channels,
                                          positions: positions, scratch: scratch, into: g, threads: threads)
        } else {
            Gram.accumulateGradient(fold.base, features: features, channels: channels, positions: positions,
                                    into: g, threads: threads)
        }
    }
}
