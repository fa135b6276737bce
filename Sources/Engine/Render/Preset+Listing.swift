/// `stylefarm presets`: every preset with all its values, as a table people read.
extension Preset {
    /// One row per preset (optimiser, iterations, weights), then per preset its layers, the
    /// weights that named layers get, and its summary.
    public static func listing(_ presets: [Preset] = all) -> String {
        let header = ["preset", "pooling", "optimizer", "lr", "lr decay", "iterations", "init", "α", "β", "tv", "resample"]
        let rows = presets.map { p in
            [p.name, p.pooling.rawValue, p.optimizer.rawValue, p.learningRate.shortDescription,
             p.learningRateDecay == 1 ? "none" : "×\(p.learningRateDecay.shortDescription) every \(p.learningRateDecayEvery)",
             String(p.iterations), p.initialization.description, p.alpha.shortDescription, p.beta.shortDescription,
             p.tvWeight.shortDescription, p.resample.rawValue]
        }
        var lines = [header] + rows
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        lines.insert(widths.map { String(repeating: "-", count: $0) }, at: 1)
        var text = lines.map { row in
            zip(row, widths).enumerated().map { column, cell in
                column == row.count - 1 ? cell.0 : cell.0 + String(repeating: " ", count: cell.1 - cell.0.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
        for p in presets {
            text += "\n\(p.name): \(p.summary)\n"
            text += "  content layers: \(describe(p.contentLayers)) (named without weights: \(p.contentLayerWeight))\n"
            text += "  style layers:   \(describe(p.styleLayers)) (named without weights: \(p.styleLayerWeight))\n"
        }
        return text
    }

    static func describe(_ layers: [WeightedLayer]) -> String {
        layers.map { "\($0.layer) ×\($0.weight.shortDescription)" }.joined(separator: ", ")
    }
}
