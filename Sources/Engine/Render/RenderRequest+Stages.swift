extension RenderRequest {
    /// Sets the stage, colour and denoising options on resolved settings. `--scale-sizes`
    /// sets `size` to its last entry; `--scales N` halves down from `size`.
    func resolveStagesColorAndDenoise(into s: inout RenderSettings) throws {
        if let preserveColor { s.preserveColor = preserveColor }
        if let styleScale { s.styleScale = styleScale }
        if let denoise { s.denoise = denoise }
        if scales != nil && scaleSizes != nil {
            throw EngineError(.invalidArgument, "give --scales N (sizes halving down to --size) or --scale-sizes LIST, not both")
        }
        if let scaleSizes {
            try RenderSettings.validateScaleSizes(scaleSizes)
            if let size, let last = scaleSizes.last, size != last {
                throw EngineError(.invalidArgument, "--size \(size) is not the last of --scale-sizes (\(scaleSizes.map(String.init).joined(separator: ","))); "
                                  + "the last stage is the output, so leave out --size or make them equal")
            }
            s.size = scaleSizes.last ?? s.size
            s.scaleSizes = scaleSizes
        }
        if let scales {
            let sizes = try RenderSettings.halvingSizes(count: scales, endingAt: s.size)
            s.scaleSizes = sizes.count > 1 ? sizes : []
        }
        if let scaleIterations { s.scaleIterations = scaleIterations }
    }
}
