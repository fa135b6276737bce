public import Foundation

/// The envelope every StyleFarm message travels in, before its header is interpreted.
///
/// | frame | content |
/// |---|---|
/// | 0 | the tag: ASCII `SFARM` followed by the protocol version as a big-endian `UInt16` |
/// | 1 | the message kind, a short ASCII string (``MessageKind``) |
/// | 2 | the JSON header, decoded strictly into the kind's struct |
/// | 3… | binary payloads (PNG bytes, float32 arrays), as many as the kind carries |
///
/// A ROUTER socket adds the peer's identity in front; ``RoutedMessage`` carries it apart.
public struct WireMessage: Sendable, Hashable {
    /// The version this build speaks. A peer sending another version is refused with
    /// ``ProtocolError/Code/unsupportedVersion``.
    public static let protocolVersion: UInt16 = 1
    /// The first five bytes of frame 0.
    public static let tagBytes: [UInt8] = Array("SFARM".utf8)
    /// Tag, kind and header.
    public static let envelopeFrameCount = 3
    /// Longest kind string accepted in frame 1.
    static let maxKindBytes = 32

    public var kind: MessageKind
    /// The JSON header, exactly as sent.
    public var header: Data
    /// The binary frames after the header.
    public var payloads: [Data]

    public init(kind: MessageKind, header: Data, payloads: [Data] = []) {
        self.kind = kind
        self.header = header
        self.payloads = payloads
    }

    /// Frame 0 for the given version.
    public static func tagFrame(version: UInt16 = protocolVersion) -> Data {
        Data(tagBytes + [UInt8(version >> 8), UInt8(version & 0xFF)])
    }

    /// The frames to send, envelope first.
    public var frames: [Data] {
        [Self.tagFrame(), Data(kind.rawValue.utf8), header] + payloads
    }

    /// Checks the envelope and the limits; the header is not parsed here (see ``Message``).
    public init(decoding multipart: Multipart, limits: WireLimits = .default) throws(ProtocolError) {
        let frames = multipart.frames
        if multipart.frameCount == 0 {
            throw ProtocolError(.truncated, "empty message: expected at least \(Self.envelopeFrameCount) frames (tag, kind, header)")
        }
        if multipart.frameCount > limits.maxFrames {
            throw ProtocolError(.tooManyFrames, "message has \(multipart.frameCount) frames; the limit is \(limits.maxFrames)")
        }
        if multipart.byteCount > limits.maxMessageBytes {
            throw ProtocolError(.tooLarge, "message is \(multipart.byteCount) bytes; the limit is \(limits.maxMessageBytes)")
        }
        // Any discarded frame means a limit above was exceeded; keep the decoder honest anyway.
        if multipart.discardedFrames > 0 {
            throw ProtocolError(.tooLarge, "message exceeded the reader's limits; \(multipart.discardedFrames) frames were discarded")
        }

        let tag = frames[0]
        let tagLength = Self.tagBytes.count
        guard tag.count >= tagLength, tag.prefix(tagLength).elementsEqual(Self.tagBytes) else {
            throw ProtocolError(.wrongTag, "frame 0 is not the StyleFarm tag 'SFARM'+version (got \(tag.count) bytes starting \(Self.hexPrefix(tag))); is the peer a StyleFarm node?")
        }
        guard tag.count == tagLength + 2 else {
            throw ProtocolError(.wrongTag, "frame 0 is \(tag.count) bytes; the StyleFarm tag is \(tagLength + 2) bytes ('SFARM' + UInt16 version)")
        }
        let version = UInt16(tag[tag.startIndex + tagLength]) << 8 | UInt16(tag[tag.startIndex + tagLength + 1])
        guard version == Self.protocolVersion else {
            throw ProtocolError(.unsupportedVersion, "peer speaks protocol version \(version); this build speaks version \(Self.protocolVersion); upgrade the older side")
        }

        guard frames.count >= Self.envelopeFrameCount else {
            throw ProtocolError(.truncated, "message has \(frames.count) frames; expected at least \(Self.envelopeFrameCount) (tag, kind, header)")
        }
        let kindFrame = frames[1]
        guard kindFrame.count <= Self.maxKindBytes, let kindString = String(bytes: kindFrame, encoding: .ascii),
              !kindString.isEmpty
        else {
            throw ProtocolError(.unknownKind, "frame 1 is not a message kind (\(kindFrame.count) bytes starting \(Self.hexPrefix(kindFrame)))")
        }
        guard let kind = MessageKind(rawValue: kindString) else {
            throw ProtocolError(.unknownKind, "unknown message kind '\(kindString)'", kind: kindString)
        }

        let header = frames[2]
        if header.count > limits.maxHeaderBytes {
            throw ProtocolError(.tooLarge, "header is \(header.count) bytes; the limit is \(limits.maxHeaderBytes)", kind: kind.rawValue)
        }
        let payloads = Array(frames.dropFirst(Self.envelopeFrameCount))
        for (index, payload) in payloads.enumerated() where payload.count > limits.maxFrameBytes {
            throw ProtocolError(.tooLarge, "binary frame \(index + Self.envelopeFrameCount) is \(payload.count) bytes; the limit is \(limits.maxFrameBytes)", kind: kind.rawValue)
        }
        self.init(kind: kind, header: header, payloads: payloads)
    }

    /// Convenience for frames already in memory.
    public init(decoding frames: [Data], limits: WireLimits = .default) throws(ProtocolError) {
        try self.init(decoding: Multipart(frames: frames), limits: limits)
    }

    private static func hexPrefix(_ data: Data) -> String {
        let hex = data.prefix(8).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        return hex.isEmpty ? "<empty>" : hex
    }
}
