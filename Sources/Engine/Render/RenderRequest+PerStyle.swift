/// Options that may differ between styles: `--style-layers` and `--style-layer-weights` (given
/// once for every style, or once per style) and `--mask` (once per style, or not at all).
extension RenderRequest {
    /// Each style's weighted layers.
    func perStyleLayers(preset: Preset) throws -> [[WeightedLayer]] {
        let count = stylePaths.count
        let names = try Self.expand(styleLayers, option: "--style-layers", styleCount: count)
        let weights = try Self.expand(styleLayerWeights, option: "--style-layer-weights", styleCount: count)
        // Name the style in errors only when styles have lists of their own; with one list for
        // all, the message reads as it always has.
        let perStyle = (styleLayers?.count ?? 1) > 1 || (styleLayerWeights?.count ?? 1) > 1
        return try (0..<count).map { i in
            do {
                return try Self.weightedLayers(names: names?[i], weights: weights?[i], presetLayers: preset.styleLayers,
                                               rule: preset.styleLayerWeight, option: "--style-layer-weights")
            } catch let error as EngineError where perStyle {
                throw EngineError(error.code, "style \(i + 1) ('\(stylePaths[i])'): \(error.message)", cause: error.cause)
            }
        }
    }

    /// Each style's mask path, nil for none.
    func perStyleMasks() throws -> [String?] {
        guard let maskPaths else { return stylePaths.map { _ in nil } }
        guard maskPaths.count == stylePaths.count else {
            throw RenderSettings.wrongMaskCount(maskPaths.count, styles: stylePaths.count)
        }
        return maskPaths.map { $0 == Self.noMask ? nil : $0 }
    }

    /// The `--mask` word for a style without a mask.
    public static let noMask = "none"

    /// A list given once is every style's; otherwise there must be one per style.
    private static func expand<T>(_ lists: [T]?, option: String, styleCount: Int) throws -> [T]? {
        guard let lists else { return nil }
        if lists.count == 1 { return [T](repeating: lists[0], count: styleCount) }
        guard lists.count == styleCount else {
            throw EngineError(.invalidArgument, "\(option) is given \(lists.count) times for \(styleCount) style images; give it once (for every style) or once per style, in the order of --style")
        }
        return lists
    }
}
