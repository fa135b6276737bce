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
/// `auto` is the default since 11-27: 0.58× the direct method's time per iteration at 512 px
/// (README, "Winograd convolutions"). Its quality was first in doubt (F(4×4) 3.7 % above direct
/// after 100 L-BFGS iterations), but that was L-BFGS amplifying rounding, not a bias: with Adam,
/// which does not amplify it, F(4×4) and direct end 0.07 % apart, and after L-BFGS's first-step
/// fix F(4×4) lands between the direct method's 1- and 2-thread runs (0.04 % and 0.54 %).
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
