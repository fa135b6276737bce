/// Where one style applies (Qiu & Quach §3.3; guided Gram matrices, Gatys et al. 2017): a grey
/// weight per pixel of the rendered image, 0 = not at all, 1 = fully, anything between for
/// soft edges. The objective reads it at each style layer's resolution (`weights(height:width:)`).
public struct StyleMask: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width × height` weights in [0, 1], row-major.
    public let values: [Float]

    /// - Throws: if the sizes do not match, a weight is outside [0, 1] or not finite, or every
    ///   weight is 0 (the style would apply nowhere, and its Gram would be 0/0).
    public init(width: Int, height: Int, values: [Float]) throws {
        guard width > 0, height > 0, values.count == width * height else {
            throw EngineError(.invalidArgument, "a \(width)×\(height) mask needs \(max(width * height, 0)) weights, got \(values.count)")
        }
        guard values.allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
            throw EngineError(.invalidArgument, "mask weights must be in [0, 1]")
        }
        guard values.contains(where: { $0 > 0 }) else {
            throw EngineError(.invalidArgument, "the mask is black everywhere, so its style would apply nowhere; lighten where the style should go, or give `none` to apply it everywhere")
        }
        self.width = width
        self.height = height
        self.values = values
    }

    /// Reads a PNG or JPEG (colour counts by its luma) and resizes it to the rendered image's
    /// `width`×`height`; errors name the file and the style it belongs to.
    public static func read(path: String, style: Int, width: Int, height: Int,
                            filter: ResampleFilter, maxPixels: Int) throws -> StyleMask {
        let role = "style \(style)'s mask"
        let grey: (width: Int, height: Int, values: [Float])
        do {
            grey = try ImageFile.readGrey(path: path, maxPixels: maxPixels)
        } catch {
            // "style 2's mask image 'm.png' is truncated…", "style 2's mask: cannot open …"
            let message = error.message.hasPrefix("image ") ? "\(role) \(error.message)" : "\(role): \(error.message)"
            throw EngineError(error.code, message, cause: error.cause)
        }
        let values = Resampler.resizePlane(grey.values, width: grey.width, height: grey.height,
                                           toWidth: width, toHeight: height, filter: filter, clampingTo: 0...1)
        do {
            return try StyleMask(width: width, height: height, values: values)
        } catch let error as EngineError {
            throw EngineError(error.code, "\(role) '\(path)': \(error.message)", cause: error.cause)
        }
    }

    /// The weights at a layer of `height`×`width` positions: the mask averaged over 2×2 blocks
    /// once per pooling on the way down, dropping an odd last row or column exactly as the
    /// pooling does, so that each weight covers the input pixels its feature sees.
    public func weights(height: Int, width: Int) throws -> [Float] {
        var (h, w, level) = (self.height, self.width, values)
        while h > height || w > width {
            let (oh, ow) = Pooling.outputSize(height: h, width: w)
            guard oh > 0, ow > 0 else { break }
            var next = [Float](repeating: 0, count: oh * ow)
            for y in 0..<oh {
                for x in 0..<ow {
                    let i = 2 * y * w + 2 * x
                    next[y * ow + x] = (level[i] + level[i + 1] + level[i + w] + level[i + w + 1]) * 0.25
                }
            }
            (h, w, level) = (oh, ow, next)
        }
        guard h == height, w == width else {
            throw EngineError(.invalidArgument, "a \(self.width)×\(self.height) mask does not pool down to a \(width)×\(height) layer; masks must have the rendered image's size")
        }
        return level
    }
}
