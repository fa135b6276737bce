public import Foundation

/// A small picture of a running attempt's image, carried by `progress` as its one optional
/// binary frame (frame 3) for the coordinator's live view. Only its header is read here, never
/// its pixels: a coordinator checks it on the loop that answers heartbeats and passes the bytes
/// on to browsers as they are.
public struct PreviewImage: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable, Codable {
        case png, jpeg

        /// The HTTP content type.
        public var mimeType: String {
            switch self {
            case .png: "image/png"
            case .jpeg: "image/jpeg"
            }
        }
    }

    /// The largest preview accepted: a 512-pixel JPEG of a painting is well under 100 KiB.
    public static let maximumBytes = 256 * 1024
    /// The largest width and height a preview's header may declare.
    public static let maximumSide = 512

    public let format: Format
    public let width: Int
    public let height: Int
    public let bytes: Data

    /// Checks `bytes` against the limits from its header alone: at most `maximumBytes`, a PNG
    /// or JPEG whose declared size is 1…`maximumSide` pixels a side.
    public init(validating bytes: Data) throws(ProtocolError) {
        guard bytes.count <= Self.maximumBytes else {
            throw ProtocolError(.tooLarge, "the preview is \(bytes.count) bytes; the limit is \(Self.maximumBytes) (\(Self.maximumBytes >> 10) KiB)",
                                kind: TaskProgress.kind.rawValue)
        }
        let header: (format: Format, width: Int, height: Int)
        do {
            header = try PreviewHeader.read(bytes)
        } catch {
            throw ProtocolError(.invalidPayload, "the preview is not a readable PNG or JPEG: \(error.reason)", kind: TaskProgress.kind.rawValue)
        }
        guard header.width <= Self.maximumSide, header.height <= Self.maximumSide else {
            throw ProtocolError(.tooLarge, "the preview's header says \(header.width)×\(header.height); a preview is at most \(Self.maximumSide)×\(Self.maximumSide) pixels",
                                kind: TaskProgress.kind.rawValue)
        }
        self.format = header.format
        self.width = header.width
        self.height = header.height
        self.bytes = bytes
    }
}
