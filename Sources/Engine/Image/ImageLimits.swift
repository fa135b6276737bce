internal import Foundation

/// Limits applied to images read from files, checked from the header before any pixels are decoded.
public enum ImageLimits {
    /// The default `--max-pixels`: 100 megapixels. A 100 MP image already needs 1.2 GB as
    /// `RGBImage` floats; anything larger is more likely a mistake than a wish.
    public static let defaultMaxPixels = 100_000_000

    /// Returns `width * height` if the header describes a usable image within `maxPixels`,
    /// and throws otherwise. `width` and `height` come straight from a file header, so zero,
    /// negative and overflowing values are all expected here.
    static func checkedPixelCount(width: Int, height: Int, maxPixels: Int, name: String) throws(EngineError) -> Int {
        guard width > 0, height > 0 else {
            throw EngineError(.invalidImage, "image '\(name)' has no pixels: its header says \(width)×\(height)")
        }
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, count <= maxPixels else {
            let size = overflow ? "more than \(Int.max / 1_000_000) MP" : "\(formatMegapixels(count, isLimit: false)) MP"
            throw EngineError(
                .imageTooLarge,
                "image '\(name)' is \(width)×\(height) (\(size)); "
                    + "the limit is \(formatMegapixels(maxPixels, isLimit: true)) MP, set --max-pixels to raise it"
            )
        }
        return count
    }

    /// The largest file worth reading for `maxPixels`: 16-bit RGBA stored without compression
    /// takes 8 bytes a pixel, plus room for metadata (ICC profiles, EXIF, text). Anything
    /// bigger cannot be an image within the limit, so it is refused before it fills memory.
    static func maxFileBytes(maxPixels: Int) -> Int {
        let metadataBytes = 64 * 1024 * 1024
        let (imageBytes, overflow) = maxPixels.multipliedReportingOverflow(by: 8)
        guard !overflow, imageBytes <= .max - metadataBytes else { return .max }
        return imageBytes + metadataBytes
    }

    /// Throws unless `maxPixels` is a usable limit (it usually comes from the command line).
    static func validate(maxPixels: Int) throws(EngineError) {
        guard maxPixels > 0 else {
            throw EngineError(.invalidArgument, "the pixel limit must be positive, got \(maxPixels); check --max-pixels")
        }
    }

    /// "100" for 100_000_000 and "0.5" for 500_000 (limits); "1600.0" for 1_600_000_000 and
    /// "0.0004" for 400 (image sizes): one decimal, unless that would print a small size as 0.
    private static func formatMegapixels(_ pixels: Int, isLimit: Bool) -> String {
        if isLimit, pixels % 1_000_000 == 0 { return String(pixels / 1_000_000) }
        let value = Double(pixels) / 1_000_000
        if isLimit || value < 0.1 { return String(format: "%g", value) }
        return String(format: "%.1f", value)
    }
}
