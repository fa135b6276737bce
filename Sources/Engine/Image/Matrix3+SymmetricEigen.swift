extension Matrix3 {
    /// Eigenvalues and orthonormal eigenvectors of a symmetric matrix (only the upper triangle
    /// is read), by cyclic Jacobi rotations: for 3×3 a handful of sweeps reach Double precision,
    /// the result is orthonormal by construction, and nothing divides by a small pivot, so a
    /// zero or singular matrix (a flat-colour image's covariance) comes back finite.
    ///
    /// `vectors` holds the eigenvectors as columns: `self ≈ vectors · diag(values) · vectorsᵀ`.
    public func symmetricEigen() -> (values: SIMD3<Double>, vectors: Matrix3) {
        var a = self
        a[1, 0] = a[0, 1]; a[2, 0] = a[0, 2]; a[2, 1] = a[1, 2]
        var v = Matrix3.identity
        let scale = max(a.maxMagnitude, .leastNormalMagnitude)
        for _ in 0..<32 {
            let off = a[0, 1] * a[0, 1] + a[0, 2] * a[0, 2] + a[1, 2] * a[1, 2]
            if off <= (1e-15 * scale) * (1e-15 * scale) { break }
            for (p, q) in [(0, 1), (0, 2), (1, 2)] where a[p, q] != 0 {
                // The rotation that zeroes a[p, q] (Numerical Recipes' `jacobi`, smaller angle).
                let theta = (a[q, q] - a[p, p]) / (2 * a[p, q])
                let t = theta.isFinite && abs(theta) < 1e150
                    ? (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    : 1 / (2 * theta)   // a[p, q] is negligible next to the diagonal gap
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                var j = Matrix3.identity
                j[p, p] = c; j[q, q] = c; j[p, q] = s; j[q, p] = -s
                a = j.transposed * a * j
                a[p, q] = 0; a[q, p] = 0
                v = v * j
            }
        }
        return (SIMD3(a[0, 0], a[1, 1], a[2, 2]), v)
    }

    /// `f` applied to a symmetric matrix's eigenvalues: `V · diag(f(λ)) · Vᵀ`.
    public func symmetricFunction(_ f: (Double) -> Double) -> Matrix3 {
        let (values, vectors) = symmetricEigen()
        return vectors * Matrix3.diagonal(SIMD3(f(values.x), f(values.y), f(values.z))) * vectors.transposed
    }
}
