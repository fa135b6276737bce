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
/// (unset: `direct`), read when a network is built from weights.
///
/// `auto` (F(4×4) where it pays) runs an iteration in 0.55–0.56× the direct method's time, but
/// the default stays `direct` because of issue 14's quality check (L-BFGS's final loss within
/// 0.5 %): with L-BFGS, F(4×4) ends about 1 % higher than direct in every comparison made on
/// 11-27 (four styles at 256 px after 100 iterations: +0.13 to +1.93 %, mean +1.05 %; 512 px:
/// above both thread counts' runs), while with Adam it ends 0.07 % lower. F(2×2), whose
/// rounding is as small as direct's, ended as high, so it is not the error's size; what L-BFGS
/// sees differently is not found yet.
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
    public static let standard = ConvolutionPolicy.direct

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
