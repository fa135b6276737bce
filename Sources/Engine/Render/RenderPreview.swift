/// A small 8-bit picture of the image a render is optimising, made only when a progress
/// observer asks for one (a farm dashboard's live thumbnail). Making it reads the optimiser's
/// image and never writes it, so a render with previews is bit-identical to one without.
public struct RenderPreview: Sendable, Equatable {
    /// At most `maxSide` pixels on its longest side (never enlarged); samples are whole
    /// numbers in 0…255, so an 8-bit encoder stores them exactly.
    public var image: RGBImage

    /// What the farm's workers ask for unless the coordinator says otherwise.
    public static let defaultMaxSide = 256

    public init(image: RGBImage) { self.image = image }

    /// The picture of a VGG-space image (`VGGPreprocessing`: BGR, mean subtracted, CHW) of
    /// `width`×`height`. It is first averaged over whole blocks of pixels straight from the
    /// tensor, so that memory stays about (2·maxSide)² samples whatever the image's size,
    /// then resized to fit `maxSide` by area averaging (which never rings).
    public static func make(vgg: UnsafeBufferPointer<Float>, width: Int, height: Int, maxSide: Int) -> RenderPreview {
        precondition(width > 0 && height > 0 && vgg.count >= 3 * width * height && maxSide > 0,
                     "RenderPreview: a \(width)×\(height) image needs \(3 * width * height) samples and a positive side")
        let block = max(1, max(width, height) / maxSide)
        let reduced = blockAverage(vgg, width: width, height: height, block: block)
        let fitted: RGBImage
        if max(reduced.width, reduced.height) > maxSide {
            let size = Resampler.size(fittingLongestSide: maxSide, width: reduced.width, height: reduced.height)
            fitted = Resampler.resize(reduced, width: size.width, height: size.height, filter: .area)
        } else {
            fitted = reduced
        }
        return RenderPreview(image: quantised(fitted))
    }

    /// The picture of a tensor in VGG space (a shard's rows, an optimiser's image).
    public static func make(vgg tensor: Tensor, maxSide: Int) -> RenderPreview {
        tensor.withUnsafeBufferPointer { make(vgg: $0, width: tensor.width, height: tensor.height, maxSide: maxSide) }
    }

    /// JPEG bytes: at quality 80 a 256-pixel thumbnail of a painting is about 15–25 kB.
    public func jpeg(quality: Int = 80) throws(EngineError) -> [UInt8] {
        try ImageFile.encodeJPEG(image, quality: quality)
    }

    /// 8-bit PNG bytes (lossless, several times larger than `jpeg()` for a painting).
    public func png() throws(EngineError) -> [UInt8] {
        try ImageFile.encodePNG(image)
    }

    /// RGB on 0…255 averaged over `block`×`block` pixels (fewer at the right and bottom edges).
    static func blockAverage(_ vgg: UnsafeBufferPointer<Float>, width: Int, height: Int, block: Int) -> RGBImage {
        let outWidth = (width + block - 1) / block, outHeight = (height + block - 1) / block
        let plane = width * height
        var pixels = [Float](repeating: 0, count: outWidth * outHeight * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for oy in 0..<outHeight {
                let rows = oy * block..<min(height, (oy + 1) * block)
                for ox in 0..<outWidth {
                    let columns = ox * block..<min(width, (ox + 1) * block)
                    var (b, g, r): (Float, Float, Float) = (0, 0, 0)
                    for y in rows {
                        for x in columns {
                            let i = y * width + x
                            b += vgg[i]
                            g += vgg[plane + i]
                            r += vgg[2 * plane + i]
                        }
                    }
                    let n = Float(rows.count * columns.count)
                    let o = 3 * (oy * outWidth + ox)
                    out[o] = r / n + VGGPreprocessing.meanBGR.2
                    out[o + 1] = g / n + VGGPreprocessing.meanBGR.1
                    out[o + 2] = b / n + VGGPreprocessing.meanBGR.0
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }

    /// Rounded and clamped to 0…255 as the 8-bit encoders would (NaN becomes 0).
    static func quantised(_ image: RGBImage) -> RGBImage {
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { samples in
            for i in samples.indices { samples[i] = PNGEncoder.quantise(samples[i], scale: 1, max: 255) }
        }
        return out
    }
}

/// Hands a progress observer the current image's preview on demand; only valid during the
/// progress call that receives it (it reads the optimiser's buffer in place).
public typealias RenderPreviewMaker = (_ maxSide: Int) -> RenderPreview

/// A progress observer that may ask for a preview of the record's image.
public typealias PreviewingProgress = (RenderProgress, RenderPreviewMaker) throws -> Void
