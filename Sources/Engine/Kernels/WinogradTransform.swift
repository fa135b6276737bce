/// The matrices of Winograd's minimal filtering algorithm F(m×m, 3×3) (Lavin & Gray 2015):
/// an m×m output tile is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` for an (m+2)×(m+2) input tile d and a
/// 3×3 kernel g. Built by the Toom–Cook construction from m+1 finite interpolation points and ∞,
/// in Double, so one code path serves F(2×2) and F(4×4) and any point set can be tried.
///
/// The point sets are closed under p → 1/p (0 ↔ ∞). Then the transform of the 180°-rotated
/// kernel (the backward-to-data convolution) is the forward transform with its positions
/// permuted and scaled (`flipPosition`, `flipScale`): `G·rot(g)·Gᵀ [i][j] = s_i s_j · (G g Gᵀ)[π(i)][π(j)]`,
/// so one set of transformed weights serves both directions (read transposed, with the scale as
/// the GEMM's alpha). For F(4×4) that is {0, ±1, −2, −½, ∞}: checked in float32 against a
/// float64 reference over 256 channels, its error (4.1e-6 of the largest output) is within
/// 1.3× of Lavin's {0, ±1, ±2, ∞} (3.3e-6), which is not closed under 1/p.
struct WinogradTransform: Sendable {
    /// Output tile side m.
    let outputSize: Int
    /// Input tile side α = m + 2; α² transform positions.
    let inputSize: Int
    /// Aᵀ, m × α, row-major.
    let outputMatrix: [Float]
    /// Bᵀ, α × α, row-major.
    let inputMatrix: [Float]
    /// G, α × 3, row-major, kept in Double: weights are transformed once, at full precision.
    let kernelMatrix: [Double]
    /// π: for the rotated kernel, row i of G·J equals `flipScale[i]` × row `flipPosition[i]` of G.
    let flipPosition: [Int]
    let flipScale: [Double]
    /// Whether these are F(4×4)'s matrices that `WinogradF4` writes out (faster than the
    /// general loops); tests turn it off to compare the two.
    var usesWrittenOutF4: Bool

    var positions: Int { inputSize * inputSize }

    static let f2 = WinogradTransform(outputSize: 2, points: [0, 1, -1])
    static let f4 = WinogradTransform(outputSize: 4, points: [0, 1, -1, -2, -0.5])

    /// `points`: the m+1 finite interpolation points (distinct); ∞ is the last.
    init(outputSize m: Int, points: [Double]) {
        precondition(points.count == m + 1, "F(\(m)×\(m), 3×3) needs \(m + 1) finite points")
        let a = m + 2
        outputSize = m
        inputSize = a
        var at = [Float](repeating: 0, count: m * a)
        var g = [Double](repeating: 0, count: a * 3)
        var bt = [Float](repeating: 0, count: a * a)
        // M(x) = Π (x − p), coefficients low → high.
        var product: [Double] = [1]
        for p in points {
            var next = [Double](repeating: 0, count: product.count + 1)
            for (i, c) in product.enumerated() {
                next[i + 1] += c
                next[i] -= p * c
            }
            product = next
        }
        for (j, p) in points.enumerated() {
            let norm = points.enumerated().reduce(1.0) { $1.offset == j ? $0 : $0 * (p - $1.element) }
            var power = 1.0
            for i in 0..<m { at[i * a + j] = Float(power); power *= p }
            power = 1
            for k in 0..<3 { g[j * 3 + k] = power / norm; power *= p }
            // Row j of Bᵀ: the coefficients of M(x) / (x − p) (synthetic division, high → low).
            var carry = 0.0
            for k in stride(from: a - 1, through: 1, by: -1) {
                carry = carry * p + product[k]
                bt[j * a + (k - 1)] = Float(carry)
            }
        }
        at[(m - 1) * a + (a - 1)] = 1
        g[(a - 1) * 3 + 2] = 1
        for k in 0..<a { bt[(a - 1) * a + k] = Float(product[k]) }
        outputMatrix = at
        inputMatrix = bt
        kernelMatrix = g

        var position = [Int](repeating: 0, count: a)
        var scale = [Double](repeating: 0, count: a)
        for i in 0..<a {
            let flipped = [g[i * 3 + 2], g[i * 3 + 1], g[i * 3]]
            var found = false
            for j in 0..<a where !found {
                let row = [g[j * 3], g[j * 3 + 1], g[j * 3 + 2]]
                guard let pivot = (0..<3).max(by: { abs(row[$0]) < abs(row[$1]) }), row[pivot] != 0 else { continue }
                let s = flipped[pivot] / row[pivot]
                if (0..<3).allSatisfy({ abs(flipped[$0] - s * row[$0]) <= 1e-12 * max(1, abs(flipped[$0])) }) {
                    position[i] = j
                    scale[i] = s
                    found = true
                }
            }
            precondition(found, "Winograd points \(points) are not closed under p → 1/p")
        }
        flipPosition = position
        flipScale = scale
        usesWrittenOutF4 = m == 4 && bt == WinogradF4.inputMatrix && at == WinogradF4.outputMatrix
    }

    /// U = G g Gᵀ for one 3×3 kernel (row-major), into `positions` floats at stride `stride`.
    func transformKernel(_ kernel: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, stride: Int) {
        let a = inputSize
        // t = G g: α × 3, then U = t Gᵀ: α × α.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: a * 3) { t in
            for i in 0..<a {
                for k in 0..<3 {
                    var sum = 0.0
                    for l in 0..<3 { sum += kernelMatrix[i * 3 + l] * Double(kernel[l * 3 + k]) }
                    t[i * 3 + k] = sum
                }
            }
            for i in 0..<a {
                for j in 0..<a {
                    var sum = 0.0
                    for k in 0..<3 { sum += t[i * 3 + k] * kernelMatrix[j * 3 + k] }
                    u[(i * a + j) * stride] = Float(sum)
                }
            }
        }
    }
}
