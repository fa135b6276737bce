/// `--denoise λ`: Rudin–Osher–Fatemi total-variation denoising of the finished image, by
/// Chambolle's projection algorithm (Chambolle 2004, "An Algorithm for Total Variation
/// Minimization and Applications").
///
/// It returns the minimiser of the ROF energy
///
///     E(u) = ‖u − f‖² / (2λ) + TV(u),   TV(u) = Σ_pixels √(Σ_channels |∇u_c|²)
///
/// with samples on the 0…1 scale (so λ means what scikit-image's `denoise_tv_chambolle(weight:)`
/// means; 0.02–0.1 is a useful range). The TV is *vectorial* (Bresson & Chan 2008): one
/// gradient norm over all three channels, so edges stay in the same place in R, G and B and
/// the denoiser does not leave colour fringes as per-channel TV does. ∇ is forward differences
/// with Neumann boundaries, as in the paper.
///
/// Chambolle's iteration keeps a dual field p (|p| ≤ 1 per pixel) with u = f − λ·div p:
///
///     p ← (p − (τ/λ)·∇u) / (1 + (τ/λ)·|∇u|),   τ = 1/4
///
/// (τ = 1/4 is the step Chambolle reports as the fastest stable one; his proof covers 1/8.)
/// It stops on the duality gap, which bounds the distance to the exact minimiser u*:
/// E(u) − E(u*) ≤ gap = Σ(|∇u| + ∇u·p), and E is 1/λ-strongly convex, so
/// ‖u − u*‖² ≤ 2λ·gap. We stop as soon as that bound says the result is within
/// `toleranceLevels` 8-bit levels (RMS) of u*, or after `maxIterations`, whichever is first;
/// the report says which.
public struct ROFDenoiser: Sendable {
    /// λ on the 0…1 scale; 0 returns the image unchanged.
    public var lambda: Float
    public var maxIterations: Int
    /// Certified RMS distance to the exact ROF minimiser, in 0…255 levels, at which to stop.
    public var toleranceLevels: Double

    public init(lambda: Float, maxIterations: Int = 500, toleranceLevels: Double = 0.25) {
        self.lambda = lambda
        self.maxIterations = maxIterations
        self.toleranceLevels = toleranceLevels
    }

    /// What the denoiser did, for the render summary.
    public struct Report: Sendable, Codable, Equatable {
        public var lambda: Float
        public var iterations: Int
        /// True when the duality gap certified the tolerance before `maxIterations`.
        public var converged: Bool
        /// The certified bound on the RMS distance to the exact minimiser, in 0…255 levels.
        public var rmsBoundLevels: Double
        /// TV(u) (0…1 scale, vectorial) of the input and of the result.
        public var tvBefore: Double
        public var tvAfter: Double
        public var seconds: Double
    }

    /// The ROF minimiser for `image`. Samples are clamped to 0…255 first: that is the image the
    /// user would see, and values far outside it would dominate the fidelity term.
    public func denoise(_ image: RGBImage) -> (image: RGBImage, report: Report) {
        let clock = ContinuousClock()
        let started = clock.now
        var planes = ROFPlanes(image)
        let tvBefore = planes.totalVariation(of: planes.f)
        guard lambda > 0 else {
            return (planes.image(from: planes.f), Report(lambda: lambda, iterations: 0, converged: true, rmsBoundLevels: 0,
                                                         tvBefore: tvBefore, tvAfter: tvBefore, seconds: 0))
        }
        // ‖u − u*‖² ≤ 2λ·gap; the RMS over all samples is within tolerance when gap ≤ this.
        let tolerance = toleranceLevels / 255
        let gapLimit = tolerance * tolerance * Double(planes.f.count) / (2 * Double(lambda))
        var iterations = 0
        var gap = Double.infinity
        while true {
            // The gap costs about an iteration; checking every fifth stops soon enough.
            if iterations % 5 == 0 || iterations == maxIterations {
                planes.updateU(lambda: lambda)
                gap = planes.dualityGap()
                if gap <= gapLimit || iterations == maxIterations { break }
            }
            planes.step(lambda: lambda)
            iterations += 1
        }
        let bound = (2 * Double(lambda) * max(gap, 0) / Double(planes.f.count)).squareRoot() * 255
        let report = Report(lambda: lambda, iterations: iterations, converged: bound <= toleranceLevels, rmsBoundLevels: bound,
                            tvBefore: tvBefore, tvAfter: planes.totalVariation(of: planes.u),
                            seconds: (clock.now - started).seconds)
        return (planes.image(from: planes.u), report)
    }

    /// E(u) = ‖u − f‖²/(2λ) + TV(u) for images on the 0…255 scale (computed on 0…1), to check results.
    public static func energy(_ u: RGBImage, noisy f: RGBImage, lambda: Float) -> Double {
        let pu = ROFPlanes(u, clamping: false), pf = ROFPlanes(f, clamping: false)
        var fidelity = 0.0
        for i in pu.f.indices { let d = Double(pu.f[i] - pf.f[i]); fidelity += d * d }
        return fidelity / (2 * Double(lambda)) + pu.totalVariation(of: pu.f)
    }

    /// Vectorial TV of an image on the 0…255 scale, measured on 0…1.
    public static func totalVariation(_ image: RGBImage) -> Double {
        let planes = ROFPlanes(image, clamping: false)
        return planes.totalVariation(of: planes.f)
    }
}
