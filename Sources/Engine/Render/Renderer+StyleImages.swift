extension Renderer {
    /// The size a style image is rendered at: the default (`styleSize`) times `--style-scale`,
    /// refused with a clear error when that would exceed `--max-pixels`.
    public func scaledStyleSize(width: Int, height: Int, contentPixels: Int, path: String) throws -> (width: Int, height: Int) {
        let base = styleSize(width: width, height: height, contentPixels: contentPixels)
        guard settings.styleScale != 1 else { return base }
        // In Double first: a huge --style-scale must give an error, not overflow an Int.
        let longest = (Double(max(base.width, base.height)) * Double(settings.styleScale)).rounded()
        let fits = longest <= Double(1 << 20)
        let scaled = Resampler.size(fittingLongestSide: fits ? max(1, Int(longest)) : 1, width: width, height: height)
        guard fits, scaled.width * scaled.height <= settings.maxPixels else {
            let size = fits ? "\(scaled.width)×\(scaled.height)" : "over \(1 << 20) px on its longest side"
            throw EngineError(.invalidArgument, "style image '\(path)' at --style-scale \(settings.styleScale) would be \(size), over the "
                              + "limit of \(settings.maxPixels) pixels; lower --style-scale or set --max-pixels to raise it")
        }
        return scaled
    }

    /// A style image as the objective sees it: with `--preserve-color histogram`, recoloured
    /// to the content's colour mean and covariance (at this stage's sizes).
    func preparedStyle(_ style: RGBImage, content: RGBImage) -> RGBImage {
        guard settings.preserveColor == .histogram else { return style }
        return AffineColorMap(matching: style, to: content).apply(to: style)
    }
}
