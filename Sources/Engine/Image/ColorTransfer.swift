/// `--preserve-color luminance`: the stylised image's luminance with the content's chroma, as
/// jcjohnson/neural-style's `-original_colors 1` does after rendering.
///
/// neural-style converts both images to YUV, takes Y from the output and U, V from the
/// content. Any Y/chroma split whose Y is Rec. 601 luma (0.299 R + 0.587 G + 0.114 B) — YUV,
/// YIQ (Gatys et al. 2017 use YIQ), YCbCr — gives the same result, because its chroma pair is
/// an invertible linear function of (R − Y, B − Y): "the output's Y plus the content's chroma"
/// is always `Y_out·(1,1,1) + (content − Y_content·(1,1,1))`. We compute that directly and
/// name it YUV, after neural-style.
///
/// Where the output's luminance with the content's chroma would leave 0…255 (a bright stroke
/// over a saturated colour), the luminance is clamped to the range in which every channel
/// fits, rather than clamping the channels later (which would shift the hue): the result is
/// always a valid image whose chroma is exactly the content's.
public enum ColorTransfer {
    /// Rec. 601 luma on the 0…255 scale.
    @inline(__always)
    public static func luma(_ rgb: SIMD3<Float>) -> Float { 0.299 * rgb.x + 0.587 * rgb.y + 0.114 * rgb.z }

    /// (Y, U, V) of an RGB colour, with the PAL/neural-style coefficients; for tests and plots.
    public static func yuv(_ rgb: SIMD3<Float>) -> SIMD3<Float> {
        let y = luma(rgb)
        return SIMD3(y, 0.492 * (rgb.z - y), 0.877 * (rgb.x - y))
    }

    /// `stylised`'s luminance with `content`'s chroma, pixel by pixel.
    ///
    /// - Precondition: the images have the same size (the renderer resizes the content to the output's).
    public static func combining(luminanceOf stylised: RGBImage, chromaOf content: RGBImage) -> RGBImage {
        precondition(stylised.width == content.width && stylised.height == content.height,
                     "ColorTransfer: \(stylised.width)×\(stylised.height) output, \(content.width)×\(content.height) content")
        var out = stylised
        out.pixels.withUnsafeMutableBufferPointer { o in
            content.pixels.withUnsafeBufferPointer { c in
                for p in 0..<content.pixelCount {
                    let source = SIMD3(c[3 * p], c[3 * p + 1], c[3 * p + 2]).clamped(lowerBound: .zero, upperBound: SIMD3(repeating: 255))
                    let chroma = source - SIMD3(repeating: luma(source))
                    let y = luma(SIMD3(o[3 * p], o[3 * p + 1], o[3 * p + 2]))
                    // y + chroma stays in 0…255 for y in [−min chroma, 255 − max chroma], which
                    // is never empty: the content's own luma lies in it.
                    let fitted = min(max(y, -chroma.min()), 255 - chroma.max())
                    let rgb = SIMD3(repeating: fitted) + chroma
                    o[3 * p] = rgb.x; o[3 * p + 1] = rgb.y; o[3 * p + 2] = rgb.z
                }
            }
        }
        return out
    }
}
