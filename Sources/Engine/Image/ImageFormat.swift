/// The file formats the engine decodes, recognised by their leading magic bytes, never by
/// the file name: a `.jpg` that is really a PNG still decodes.
public enum ImageFormat: Sendable, Equatable {
    case png
    case jpeg

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Identifies `bytes`, or throws `.invalidImage` for an empty file and `.unsupportedImage`
    /// for anything else, naming the format when it is a common one.
    static func sniff(_ bytes: [UInt8], name: String) throws(EngineError) -> ImageFormat {
        if bytes.isEmpty {
            throw EngineError(.invalidImage, "image '\(name)' is empty (0 bytes); PNG and JPEG images are supported")
        }
        if bytes.starts(with: pngSignature) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }

        let what = recogniseOther(bytes).map { "a \($0) file" } ?? "not an image format StyleFarm knows"
        throw EngineError(
            .unsupportedImage,
            "image '\(name)' is \(what); only PNG and JPEG images are supported, convert it to one of those"
        )
    }

    /// Names a few formats people commonly try, so the message can say what the file is.
    private static func recogniseOther(_ bytes: [UInt8]) -> String? {
        func ascii(_ text: String, at offset: Int = 0) -> Bool {
            let magic = Array(text.utf8)
            return bytes.count >= offset + magic.count && bytes[offset..<offset + magic.count].elementsEqual(magic)
        }
        if ascii("GIF87a") || ascii("GIF89a") { return "GIF" }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return "WebP" }
        if ascii("II*\u{0}") || ascii("MM\u{0}*") { return "TIFF" }
        if ascii("BM") { return "BMP" }
        if ascii("ftypavif", at: 4) { return "AVIF" }
        if ascii("ftypheic", at: 4) || ascii("ftypmif1", at: 4) { return "HEIF" }
        if ascii("8BPS") { return "Photoshop" }
        return nil
    }
}
