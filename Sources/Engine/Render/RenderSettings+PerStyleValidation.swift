extension RenderSettings {
    /// Each style's layers and mask: one entry per style, known layers, usable weights.
    func validateStyleLayersAndMasks() throws {
        guard styleLayers.count == stylePaths.count else {
            throw EngineError(.invalidArgument, "the settings give style layers for \(styleLayers.count) styles but there are \(stylePaths.count) style images; give --style-layers once or once per style")
        }
        // Name the style only when styles differ; with one list for all the message reads as
        // before. Compared by bit pattern, so that a NaN weight equals itself.
        let perStyle = Set(styleLayers.map { $0.map { "\($0.layer)=\($0.weight.bitPattern)" } }).count > 1
        for (i, layers) in styleLayers.enumerated() {
            let which = perStyle ? " for style \(i + 1)" : ""
            guard !layers.isEmpty else {
                throw EngineError(.invalidArgument, "give at least one style layer\(which) (--style-layers)")
            }
            try Self.validate(layers, option: "--style-layer-weights", which: which)
        }
        guard maskPaths.count == stylePaths.count else { throw Self.wrongMaskCount(maskPaths.count, styles: stylePaths.count) }
        for (i, path) in maskPaths.enumerated() where path?.isEmpty == true {
            throw EngineError(.invalidArgument, "--mask for style \(i + 1) is empty; give a grey PNG or JPEG, or `none`")
        }
    }

    /// Known layer names, finite weights ≥ 0.
    static func validate(_ layers: [WeightedLayer], option: String, which: String = "") throws {
        for layer in layers {
            _ = try VGG19Architecture.location(of: layer.layer)
            guard layer.weight.isFinite, layer.weight >= 0 else {
                throw EngineError(.invalidArgument, "\(option): the weight of \(layer.layer)\(which) must be a finite number ≥ 0 (got \(layer.weight))")
            }
        }
    }

    static func wrongMaskCount(_ given: Int, styles: Int) -> EngineError {
        EngineError(.invalidArgument, "--mask is given \(given) time\(given == 1 ? "" : "s") for \(styles) style images; give it once per style, in the order of --style, with `none` for a style that applies everywhere")
    }
}
