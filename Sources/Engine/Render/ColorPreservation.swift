/// `--preserve-color`: whether the output keeps the content's colours, and how.
public enum ColorPreservation: String, Sendable, Codable, CaseIterable {
    /// The style's colours, as plain style transfer gives them.
    case off = "none"
    /// Render in colour, then keep the output's luminance with the content's chroma
    /// (jcjohnson/neural-style's `-original_colors 1`); see `ColorTransfer`.
    case luminance
    /// Before rendering, give each style image the content's colour mean and covariance
    /// (Gatys et al. 2017, §5.1); see `AffineColorMap`.
    case histogram
}
