extension RenderSettings {
    /// Refuses settings that cannot render, with a message that says what is allowed.
    public func validate() throws {
        func fail(_ message: String) -> EngineError { EngineError(.invalidArgument, message) }
        guard !stylePaths.isEmpty else { throw fail("give at least one style image (--style PATH)") }
        guard size >= 1, size <= 1 << 20 else { throw fail("--size \(size) is out of range; give the longest side in pixels, e.g. 512") }
        if let styleSize, styleSize < 1 || styleSize > 1 << 20 {
            throw fail("--style-size \(styleSize) is out of range; give the longest side in pixels, e.g. 512")
        }
        guard size * size <= maxPixels else {
            throw fail("--size \(size) can mean up to \(size)×\(size) pixels, over the limit of \(maxPixels / 1_000_000) MP; set --max-pixels to raise it")
        }
        guard iterations >= 1 else { throw fail("--iterations must be at least 1 (got \(iterations))") }
        guard learningRate.isFinite, learningRate > 0 else { throw fail("--lr must be a positive number (got \(learningRate))") }
        guard learningRateDecay.isFinite, learningRateDecay > 0, learningRateDecay <= 1 else {
            throw fail("--lr-decay must be in (0, 1] (got \(learningRateDecay)); 1 means no decay")
        }
        guard learningRateDecayEvery >= 1 else { throw fail("--lr-decay-every must be at least 1 step (got \(learningRateDecayEvery))") }
        guard (1...1000).contains(lbfgsHistory) else { throw fail("--lbfgs-history must be 1…1000 (got \(lbfgsHistory))") }
        guard (1...256).contains(threads) else { throw fail("--threads must be 1…256 (got \(threads))") }
        guard maxPixels >= 1 else { throw fail("--max-pixels must be positive (got \(maxPixels))") }
        for (label, value) in [("--alpha", alpha), ("--beta", beta), ("--tv-weight", tvWeight)] {
            guard value.isFinite, value >= 0 else { throw fail("\(label) must be a finite number ≥ 0 (got \(value))") }
        }
        if alpha > 0 && contentLayers.isEmpty { throw fail("--alpha is \(alpha) but no content layer is given (--content-layers)") }
        try Self.validate(contentLayers, option: "--content-layer-weights")
        try validateStyleLayersAndMasks()
        guard styleWeights.count == stylePaths.count else {
            throw fail("--style-weights gives \(styleWeights.count) weights for \(stylePaths.count) style images; give one per style")
        }
        for weight in styleWeights where !(weight.isFinite && weight >= 0) {
            throw fail("--style-weights must be finite numbers ≥ 0 (got \(weight))")
        }
        guard sigmas.count == stylePaths.count else {
            throw fail("--sigma gives \(sigmas.count) values for \(stylePaths.count) style images; give one per style")
        }
        for sigma in sigmas where !(sigma.isFinite && sigma > 0) {
            throw fail("--sigma values must be finite and > 0 (got \(sigma))")
        }
        try validateStagesColorAndDenoise()
    }

    /// Style weights for a γ crossfade between two styles: w₁ = γ, w₂ = 1 − γ.
    public static func crossfadeWeights(gamma: Float, styleCount: Int) throws -> [Float] {
        guard styleCount == 2 else {
            throw EngineError(.invalidArgument, "--gamma crossfades between exactly two styles; \(styleCount) given (use --style-weights for other mixes)")
        }
        guard gamma.isFinite, (0...1).contains(gamma) else {
            throw EngineError(.invalidArgument, "--gamma must be in [0, 1] (got \(gamma)); 1 is all the first style, 0 all the second")
        }
        return [gamma, 1 - gamma]
    }
}
