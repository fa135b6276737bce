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
}

/// Which method each layer of a network gets: `STYLEFARM_CONV=direct|winograd|winograd2|winograd4|auto`
/// (unset: `direct`), read when a network is built from weights.
///
/// The default stays `direct` until Winograd passes the quality check of issue 14: on
/// `tubingen.jpg` with `starry_night.jpg` at 512 px, preset pastiche, 100 L-BFGS iterations, F(4×4)
/// ended at a loss 3.7 % above direct's (11 233 against 10 827), where 0.5 % is allowed —
/// the direct method alone spreads 1.7 % between 1 and 2 threads there (11 010 / 10 827), so
/// whether F(4×4)'s difference is L-BFGS amplifying rounding or a bias is not settled.
public enum ConvolutionPolicy: String, Sendable, CaseIterable {
    case direct
    /// F(4×4) on every layer with at least `Conv3x3.shiftedMinimumChannels` input channels.
    case winograd
    case winograd2
    case winograd4
    /// The per-layer rule from measurements (see `method(inChannels:outChannels:)`).
    case auto

    public static let environmentVariable = "STYLEFARM_CONV"

    public static func fromEnvironment(_ environment: [String: String]) throws -> ConvolutionPolicy {
        guard let value = environment[environmentVariable], !value.isEmpty else { return .direct }
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
