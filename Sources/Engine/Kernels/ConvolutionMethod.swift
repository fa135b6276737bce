/// How one 3×3 layer computes its convolutions (forward and backward to the data alike).
public enum ConvolutionMethod: String, Sendable, CaseIterable, Codable {
    /// Nine shifted GEMMs (im2col for 3-channel sides); see `Conv3x3`.
    case direct
    /// Winograd F(2×2, 3×3): 16 GEMMs on 4×4 tiles.
    case winograd2
    /// Winograd F(4×4, 3×3): 36 GEMMs on 6×6 tiles.
    case winograd4

    var transform: WinogradTransform? {
        switch self {
        case .direct: nil
        case .winograd2: .f2
        case .winograd4: .f4
        }
    }

    /// Floats a layer of this method keeps for its weights and bias: direct, the kernel
    /// taps-major and flipped (the 3-channel first layer only the kernel, for im2col); Winograd,
    /// the transformed kernel (α² positions, which also serve the backward pass).
    public func weightFloats(inChannels: Int, outChannels: Int) -> Int {
        let pairs = inChannels * outChannels
        if let transform { return transform.positions * pairs + outChannels }
        return (inChannels < Conv3x3.shiftedMinimumChannels ? 9 : 18) * pairs + outChannels
    }
}

/// Which method each layer of a network gets: `STYLEFARM_CONV=direct|winograd|winograd2|winograd4|auto`
/// (unset: `auto`), read when a network is built from weights.
///
/// `auto` (F(4×4) where it pays) is the default: an iteration takes 0.47× the direct method's
/// time at 512 px. Its quality was in doubt on 11-27 (single L-BFGS runs ended higher than
/// direct in 4 of 4 styles), but single runs cannot tell: 100 L-BFGS iterations end anywhere
/// within ±1–2 % depending on rounding. Over the same perturbed starting images F(4×4) ends
/// as low as direct (paired means: −0.18 % at 512 px over 5 starts, −0.65 % and −0.15 % at
/// 256 px; `scripts/compare-methods-quality.sh`, README "Winograd convolutions"), and with
/// Adam 0.07 % lower.
public enum ConvolutionPolicy: String, Sendable, CaseIterable {
    case direct
    /// F(4×4) on every layer with at least `Conv3x3.shiftedMinimumChannels` input channels.
    case winograd
    case winograd2
    case winograd4
    /// The per-layer rule from measurements (see `method(inChannels:outChannels:)`).
    case auto

    public static let environmentVariable = "STYLEFARM_CONV"
    /// Without `STYLEFARM_CONV`.
    public static let standard = ConvolutionPolicy.auto

    public static func fromEnvironment(_ environment: [String: String]) throws -> ConvolutionPolicy {
        guard let value = environment[environmentVariable], !value.isEmpty else { return .standard }
        guard let policy = ConvolutionPolicy(rawValue: value.lowercased()) else {
            throw EngineError(.invalidArgument,
                              "\(environmentVariable)=\(value) is not a convolution method; use one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return policy
    }

    /// The method for a layer. The 3-channel first layer always stays direct: its forward GEMM
    /// would have K = 3 and its backward M = 3 in every one of the α² products.
    public func method(inChannels: Int, outChannels: Int) -> ConvolutionMethod {
        guard inChannels >= Conv3x3.shiftedMinimumChannels, outChannels >= Conv3x3.shiftedMinimumChannels else {
            return .direct
        }
        switch self {
        case .direct: return .direct
        case .winograd, .winograd4: return .winograd4
        case .winograd2: return .winograd2
        case .auto: return .winograd4
        }
    }
}
