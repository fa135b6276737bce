/// Resizes images and single-channel planes with separable filters: one horizontal pass over
/// contiguous rows, then one vertical pass that adds whole weighted rows. Weights are
/// computed once per output column and row; the passes allocate only their output.
public enum Resampler {
    /// `image` resized to `width`×`height`. Samples stay on the 0…255 scale: lanczos3 ringing
    /// past black or white is clamped.
    ///
    /// - Precondition: `width` and `height` are positive (validate user input before calling).
    public static func resize(
        _ image: RGBImage, width: Int, height: Int, filter: ResampleFilter = .lanczos3
    ) -> RGBImage {
        let pixels = resample(image.pixels, channels: 3, width: image.width, height: image.height,
                              toWidth: width, toHeight: height, filter: filter, clampingTo: 0...255)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// One value per pixel, row-major, resized from `width`×`height` to `toWidth`×`toHeight`.
    /// Used for masks. With `clampingTo`, results are clamped to the range (lanczos3 can
    /// overshoot a 0…1 mask slightly near hard edges); without it they are left as computed.
    ///
    /// - Precondition: all sizes are positive and `values.count == width * height`.
    public static func resizePlane(
        _ values: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int,
        filter: ResampleFilter = .lanczos3, clampingTo range: ClosedRange<Float>? = nil
    ) -> [Float] {
        resample(values, channels: 1, width: width, height: height,
                 toWidth: toWidth, toHeight: toHeight, filter: filter, clampingTo: range)
    }

    /// The size that makes the longer side `longestSide` and keeps the aspect ratio, rounding
    /// the shorter side to the nearest pixel (halves away from zero) and keeping it at least 1.
    /// A square image becomes `longestSide`×`longestSide`.
    ///
    /// - Precondition: all arguments are positive.
    public static func size(fittingLongestSide longestSide: Int, width: Int, height: Int) -> (width: Int, height: Int) {
        precondition(longestSide > 0 && width > 0 && height > 0,
                     "size(fittingLongestSide: \(longestSide), width: \(width), height: \(height)) needs positive sizes")
        let long = max(width, height)
        let short = min(width, height)
        let scaledShort = max(1, Int((Double(longestSide) / Double(long) * Double(short)).rounded()))
        return width >= height ? (longestSide, scaledShort) : (scaledShort, longestSide)
    }

    /// The shared implementation: `channels` interleaved samples per pixel.
    static func resample(
        _ values: [Float], channels: Int, width: Int, height: Int, toWidth: Int, toHeight: Int,
        filter: ResampleFilter, clampingTo range: ClosedRange<Float>?
    ) -> [Float] {
        precondition(width > 0 && height > 0 && toWidth > 0 && toHeight > 0,
                     "Resampler: cannot resize \(width)×\(height) to \(toWidth)×\(toHeight)")
        precondition(values.count == width * height * channels,
                     "Resampler: \(width)×\(height)×\(channels) needs \(width * height * channels) samples, got \(values.count)")

        var result = values
        if toWidth != width {
            let weights = ResampleWeights(inputSize: width, outputSize: toWidth, filter: filter)
            result = horizontalPass(result, weights: weights, channels: channels, rows: height, inputWidth: width)
        }
        if toHeight != height {
            let weights = ResampleWeights(inputSize: height, outputSize: toHeight, filter: filter)
            result = verticalPass(result, weights: weights, rowLength: toWidth * channels)
        }
        if let range {
            result.withUnsafeMutableBufferPointer { samples in
                for i in samples.indices {
                    samples[i] = min(max(samples[i], range.lowerBound), range.upperBound)
                }
            }
        }
        return result
    }
}
