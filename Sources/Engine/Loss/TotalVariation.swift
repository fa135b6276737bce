/// Total variation: the sum of squared differences between vertical and horizontal neighbours,
/// over every channel (the golden data's definition).
public enum TotalVariation {
    /// Returns the loss; with `gradient` non-nil adds `weight · dTV/dx` to it.
    public static func evaluate(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                weight: Float, gradient: UnsafeMutablePointer<Float>?) -> Double {
        var total = 0.0
        for c in 0..<channels {
            let plane = x + c * height * width
            let g = gradient.map { $0 + c * height * width }
            var planeSum = 0.0
            for y in 0..<height {
                var rowSum: Float = 0
                let row = plane + y * width
                let below = row + width
                for xi in 0..<width {
                    let v = row[xi]
                    if xi + 1 < width {
                        let d = row[xi + 1] - v
                        rowSum += d * d
                        if let g { g[y * width + xi] -= 2 * weight * d; g[y * width + xi + 1] += 2 * weight * d }
                    }
                    if y + 1 < height {
                        let d = below[xi] - v
                        rowSum += d * d
                        if let g { g[y * width + xi] -= 2 * weight * d; g[(y + 1) * width + xi] += 2 * weight * d }
                    }
                }
                planeSum += Double(rowSum)
            }
            total += planeSum
        }
        return total
    }
}
