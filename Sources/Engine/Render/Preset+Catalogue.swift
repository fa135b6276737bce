/// The configurations the literature compares, as presets.
///
/// Our losses are means (see `StyleTransferObjective`): per style layer `mean((G − A)²)` with
/// `G = F Fᵀ/(H·W)`, per content layer `mean((F − P)²)`. That is 4× Gatys et al.'s
/// `E_l = Σ(G − A)²/(4N²M²)` for style but `2/(N·M)` × their `½Σ(F − P)²` for content, so
/// their α/β ratio (1e-3, 1e-4) cannot be copied: in our units it would depend on the image
/// size. α and β of `gatys`, `gatys-avg` and `johnson-layers` were chosen by rendering
/// tubingen.jpg with starry_night.jpg (100 L-BFGS iterations, α = 1, β in decades from 1e-5 to
/// 1e-2) and keeping the β where the painting's strokes and colours cover the whole image at
/// 256 px while the houses stay readable: a decade less stylises only lightly, a decade more
/// dissolves the houses (seen at 256 px for johnson-layers, at 128 px for gatys). `froehling`
/// uses its author's values as given in issue 4.
extension Preset {
    public static let all: [Preset] = [pastiche, gatys, gatysAvg, johnsonLayers, froehling]

    /// The five `blockN_relu1` layers Gatys et al. read style from.
    static let relu1Layers = (1...5).map { "block\($0)_relu1" }

    /// Gatys, Ecker & Bethge 2016: VGG19, max pooling, content `block4_relu2`, style
    /// `blockN_relu1` weighted 1/5 each, L-BFGS. β = 1e-4: at 256 px, 100 iterations, the
    /// style loss falls 67× and the content loss ends at 2.8e5; β = 1e-5 stylises only lightly.
    public static let gatys = lbfgs(
        name: "gatys",
        summary: "Gatys et al. 2016: content block4_relu2; style blockN_relu1 ×1/5; L-BFGS; max pooling; "
            + "α 1, β 1e-4 chosen by rendering tubingen + starry_night at 256 px (our losses are means, not the paper's sums)",
        pooling: .max, content: "block4_relu2", style: relu1Layers, beta: 1e-4)

    /// `gatys` with average pooling, which Gatys et al. found gives slightly smoother results.
    /// Averaging makes the deep activations smaller: on tubingen + starry_night at 256 px the
    /// starting style loss is 40× lower than with max pooling, and β = 1e-4 stylises only
    /// lightly, so β is 10× gatys's (style loss falls 100× in 100 iterations, houses readable).
    public static let gatysAvg = lbfgs(
        name: "gatys-avg",
        summary: "gatys with average pooling (Gatys et al. 2016 preferred it for images); β 1e-3, "
            + "10× gatys's because average pooling shrinks the style loss (chosen the same way)",
        pooling: .avg, content: "block4_relu2", style: relu1Layers, beta: 1e-3)

    /// Johnson, Alahi & Fei-Fei 2016's loss layers (content relu2_2; style relu1_2, relu2_2,
    /// relu3_3, relu4_3), taken on VGG19 because only VGG19 weights are available here. The
    /// shallow content layer holds edges firmly, so β = 1e-3 (style loss falls 320× at 256 px in
    /// 100 iterations) still keeps the houses; 1e-4 paints only the sky lightly.
    public static let johnsonLayers = lbfgs(
        name: "johnson-layers",
        summary: "Johnson et al. 2016's layers on VGG19 (their VGG16 weights are not available here): content block2_relu2; "
            + "style block1_relu2, block2_relu2, block3_relu3, block4_relu3 ×1/4; L-BFGS; max pooling; α 1, β 1e-3 chosen like gatys's",
        pooling: .max, content: "block2_relu2", style: ["block1_relu2", "block2_relu2", "block3_relu3", "block4_relu3"], beta: 1e-3)

    /// Froehling 2021 (mixed styles with σ balancing): Adam, learning rate 12 decaying ×0.6
    /// every 100 steps, content `block5_relu2`, style `blockN_relu1` weighted 1, 1, 0.2, 0.3,
    /// 0.01, α = 0.002, β = 0.02, starting from the content image. The iteration count is ours.
    /// These values were set for another loss normalisation: with our means the style term
    /// dominates (tubingen + starry_night at 256 px, 100 steps: the houses are barely left);
    /// lower `--beta` for more content.
    public static let froehling = Preset(
        name: "froehling",
        summary: "Froehling 2021: Adam lr 12 ×0.6 every 100 steps; content block5_relu2; style blockN_relu1 ×1, 1, 0.2, 0.3, 0.01; "
            + "α 0.002, β 0.02; from the content image (the author's values, as issue 4 gives them; with our mean losses "
            + "style dominates, lower --beta for more content; 500 iterations is our choice)",
        pooling: .max, optimizer: .adam, learningRate: 12, learningRateDecay: 0.6, learningRateDecayEvery: 100,
        iterations: 500, initialization: .content,
        contentLayers: [WeightedLayer("block5_relu2", 1)],
        styleLayers: zip(relu1Layers, [1, 1, 0.2, 0.3, 0.01]).map { WeightedLayer($0, $1) },
        alpha: 0.002, beta: 0.02, tvWeight: 0, resample: .lanczos3,
        contentLayerWeight: .constant(1), styleLayerWeight: .constant(1))

    /// The papers' L-BFGS setting: unit step, 500 iterations from the content image, α = 1,
    /// one content layer, style layers sharing the weight equally (1/N), no TV, Lanczos resizing.
    private static func lbfgs(name: String, summary: String, pooling: PoolingMode, content: String,
                              style: [String], beta: Float) -> Preset {
        Preset(name: name, summary: summary, pooling: pooling, optimizer: .lbfgs, learningRate: 1, learningRateDecay: 1,
               learningRateDecayEvery: 100, iterations: 500, initialization: .content,
               contentLayers: [WeightedLayer(content, 1)],
               styleLayers: zip(style, LayerWeightRule.evenShare.weights(for: style)).map { WeightedLayer($0, $1) },
               alpha: 1, beta: beta, tvWeight: 0, resample: .lanczos3,
               contentLayerWeight: .evenShare, styleLayerWeight: .evenShare)
    }
}
