public import Engine

/// The `stylefarm render …` command that renders one request on one machine: every option the
/// request gives spelled as its flag, so that `job.json` says exactly how to re-render a point.
public enum RenderCommandLine {
    /// The words of the command, unquoted: `["stylefarm", "render", "--content", …, "--out", output]`.
    public static func arguments(for request: RenderRequest, output: String, executable: String = "stylefarm") -> [String] {
        var words = [executable, "render", "--content", request.contentPath]
        for style in request.stylePaths { words += ["--style", style] }
        func add(_ flag: String, _ value: String?) {
            guard let value else { return }
            // A value starting with "-" is joined to its flag so that it is not read as a flag.
            if value.hasPrefix("-") { words.append("\(flag)=\(value)") } else { words += [flag, value] }
        }
        func number(_ value: Float?) -> String? { value.map(SweepPlanner.format) }
        func list(_ values: [Float]?) -> String? { values.map { $0.map(SweepPlanner.format).joined(separator: ",") } }

        add("--preset", request.preset)
        add("--size", request.size.map(String.init))
        add("--style-size", request.styleSize.map(String.init))
        add("--iterations", request.iterations.map(String.init))
        add("--optimizer", request.optimizer?.rawValue)
        add("--lr", number(request.learningRate))
        add("--lr-decay", number(request.learningRateDecay))
        add("--lr-decay-every", request.learningRateDecayEvery.map(String.init))
        add("--lbfgs-history", request.lbfgsHistory.map(String.init))
        add("--init", request.initialization)
        add("--pooling", request.pooling?.rawValue)
        add("--content-layers", request.contentLayers?.joined(separator: ","))
        // Per-style lists repeat their flag, once for every style or once per style, as given.
        for layers in request.styleLayers ?? [] { add("--style-layers", layers.joined(separator: ",")) }
        add("--content-layer-weights", list(request.contentLayerWeights))
        for weights in request.styleLayerWeights ?? [] { add("--style-layer-weights", list(weights)) }
        for mask in request.maskPaths ?? [] { add("--mask", mask) }
        add("--alpha", number(request.alpha))
        add("--beta", number(request.beta))
        add("--gamma", number(request.gamma))
        add("--style-weights", list(request.styleWeights))
        add("--sigma", list(request.sigmas))
        add("--tv-weight", number(request.tvWeight))
        add("--seed", request.seed.map(String.init))
        add("--threads", request.threads.map(String.init))
        add("--max-pixels", request.maxPixels.map(String.init))
        add("--resample", request.resample?.rawValue)
        add("--preserve-color", request.preserveColor?.rawValue)
        add("--scales", request.scales.map(String.init))
        add("--scale-sizes", request.scaleSizes?.map(String.init).joined(separator: ","))
        add("--scale-iterations", request.scaleIterations?.map(String.init).joined(separator: ","))
        add("--style-scale", number(request.styleScale))
        add("--denoise", number(request.denoise))
        words += ["--out", output]
        return words
    }

    /// The command as one shell line, each word quoted where the shell needs it.
    public static func shellCommand(for request: RenderRequest, output: String, executable: String = "stylefarm") -> String {
        ShellQuoting.join(arguments(for: request, output: output, executable: executable))
    }
}
