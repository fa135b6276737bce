/// What one activation of a VGG19 layer sees of the input image, along one axis (the network
/// is the same along both).
///
/// An activation at position q of a layer with stride j owns the input "cell" `[q·j, q·j + j)`
/// and sees that cell grown by `margin` pixels on each side: every 3×3 convolution (padding 1)
/// adds one of its input's stride to both sides, and a 2×2 pooling doubles the stride (its
/// window is its output's cell). So `size = stride + 2·margin`: block1_conv1 sees 3 pixels,
/// block2_relu1 10, block3_relu1 24, block4_relu1 68, block5_relu1 156, block5_pool 268.
public struct ReceptiveField: Sendable, Equatable, CustomStringConvertible {
    /// Input pixels between neighbouring activations (2^pools before the layer).
    public let stride: Int
    /// Input pixels seen beyond the activation's own cell, on each side.
    public let margin: Int
    /// Input pixels one activation sees along one axis.
    public var size: Int { stride + 2 * margin }

    public init(stride: Int, margin: Int) {
        self.stride = stride
        self.margin = margin
    }

    public var description: String { "\(size) px (stride \(stride), margin \(margin))" }
}

extension VGG19Architecture {
    /// The receptive field of a named layer, computed from the architecture (3×3 convolutions
    /// with padding 1, 2×2 stride-2 pooling). `blockN_convM` and `blockN_reluM` share one.
    public static func receptiveField(of layer: String) throws -> ReceptiveField {
        let location = try location(of: layer)
        var stride = 1, margin = 0
        for step in steps.prefix(location.step + 1) {
            switch step {
            case .convolution: margin += stride
            case .pool: stride *= 2
            }
        }
        return ReceptiveField(stride: stride, margin: margin)
    }

    /// The receptive field of the output of step `index` of `steps`.
    static func receptiveField(atStep index: Int) -> ReceptiveField {
        var stride = 1, margin = 0
        for step in steps.prefix(index + 1) {
            switch step {
            case .convolution: margin += stride
            case .pool: stride *= 2
            }
        }
        return ReceptiveField(stride: stride, margin: margin)
    }

    /// The stride of the deepest of `layers`: tiles whose borders are multiples of it put every
    /// activation of every one of those layers on exactly one side of each border.
    public static func totalStride(for layers: [String]) throws -> Int {
        try layers.map { try receptiveField(of: $0).stride }.max() ?? 1
    }

    /// The halo (pixels of context around a tile) for which the tile's window computes every
    /// activation whose cell lies in the tile exactly, for all of `layers`: the largest margin.
    /// Enough for forward-only work such as the partial Gram sums of `TiledGram`.
    public static func forwardHalo(for layers: [String]) throws -> Int {
        try layers.map { try receptiveField(of: $0).margin }.max() ?? 0
    }

    /// The halo for which back-propagating a tile's window gives the exact gradient on the tile's
    /// pixels: every activation that sees a tile pixel (its cell within `margin` of the tile)
    /// must itself be exact, so its whole receptive field must be inside the window:
    /// `2·margin + stride − 1 = size − 1` for the deepest layer (see `ExactTileStep`).
    public static func exactHalo(for layers: [String]) throws -> Int {
        try layers.map { let field = try receptiveField(of: $0); return field.size - 1 }.max() ?? 0
    }
}
