import Foundation
import Protocol

/// How the fuzzer's bytes become one received message: a few option bytes, then frames.
///
/// | bytes | meaning |
/// |---|---|
/// | 0 | options: bits 0–1 the limits (0 or 3: `.default`; 1: ``smallLimits``; 2: the next four bytes), bits 2–3 the reader (0 or 3: the frames as given; 1: the DEALER reader; 2: the ROUTER reader, the first frame being the peer's identity) |
/// | 1…4 | with limits 2 only: `maxHeaderBytes` / 4, `maxFrameBytes` / 4, `maxMessageBytes` / 16, `maxFrames` mod 20 |
/// | rest | the frames, separated by ``separator``: N − 1 separators make N frames, two in a row an empty frame; no bytes at all make no frames |
///
/// Separators rather than length prefixes, so that libFuzzer's byte insertions and deletions
/// inside a frame do not shift every frame after it. Any byte sequence is a valid input.
struct FuzzInput: Sendable {
    enum LimitsChoice: UInt8, Sendable, CaseIterable {
        case standard = 0, small = 1, custom = 2
    }

    /// Which of the socket layer's ways of building a ``Multipart`` the frames go through.
    enum Reader: UInt8, Sendable, CaseIterable {
        /// `Multipart(frames:)`: every frame kept, as `WireMessage(decoding: [Data])` does.
        case direct = 0
        /// `ZMQSocket.receive(limits:)`: frames past `maxFrames` or `maxMessageBytes` are counted, not kept.
        case dealer = 1
        /// `ZMQSocket.receiveRouted(limits:)`: the first frame is the peer's identity (at most 255 bytes).
        case router = 2
    }

    static let separator: [UInt8] = [0xFF, 0xFF]
    /// Limits that fit the inputs libFuzzer makes, so that every "too large" branch is reachable.
    static let smallLimits = WireLimits(maxHeaderBytes: 48, maxFrameBytes: 8, maxMessageBytes: 96, maxFrames: 5)
    /// ROUTER identities are at most this long (ZMTP); longer fuzzed ones are cut.
    static let maxIdentityBytes = 255

    var limitsChoice: LimitsChoice
    var limits: WireLimits
    var reader: Reader
    var frames: [Data]

    init(limitsChoice: LimitsChoice = .standard, customLimits: WireLimits? = nil, reader: Reader = .direct, frames: [Data]) {
        self.limitsChoice = limitsChoice
        switch limitsChoice {
        case .standard: limits = .default
        case .small: limits = Self.smallLimits
        case .custom: limits = customLimits ?? .default
        }
        self.reader = reader
        self.frames = frames
    }

    /// Parses fuzzer bytes; total, so it never refuses (or traps on) an input.
    ///
    /// The frames are slices of one `Data`, so their indices do not start at 0: a decoder that
    /// indexes a frame from 0 rather than from its `startIndex` traps here.
    init(_ data: Data) {
        var rest = data[...]
        let options = rest.popFirst() ?? 0
        limitsChoice = LimitsChoice(rawValue: options & 0b11) ?? .standard
        reader = Reader(rawValue: (options >> 2) & 0b11) ?? .direct
        switch limitsChoice {
        case .standard:
            limits = .default
        case .small:
            limits = Self.smallLimits
        case .custom:
            let header = Int(rest.popFirst() ?? 0), frame = Int(rest.popFirst() ?? 0)
            let message = Int(rest.popFirst() ?? 0), count = Int(rest.popFirst() ?? 0)
            limits = WireLimits(maxHeaderBytes: header * 4, maxFrameBytes: frame * 4, maxMessageBytes: message * 16, maxFrames: count % 20)
        }
        frames = Self.split(rest)
    }

    private static func split(_ body: Data) -> [Data] {
        if body.isEmpty { return [] }
        var frames: [Data] = []
        var start = body.startIndex
        var index = body.startIndex
        while index < body.endIndex {
            if index + 1 < body.endIndex, body[index] == separator[0], body[index + 1] == separator[1] {
                frames.append(body[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        frames.append(body[start..<body.endIndex])
        return frames
    }

    /// The bytes that parse back into this input, or nil if a frame contains the separator.
    func encoded() -> Data? {
        var bytes: [UInt8] = [limitsChoice.rawValue | reader.rawValue << 2]
        if limitsChoice == .custom {
            bytes += [
                UInt8(clamping: limits.maxHeaderBytes / 4), UInt8(clamping: limits.maxFrameBytes / 4),
                UInt8(clamping: limits.maxMessageBytes / 16), UInt8(clamping: limits.maxFrames % 20),
            ]
        }
        for (index, frame) in frames.enumerated() {
            if Self.contains(separator: frame) { return nil }
            if index > 0 { bytes += Self.separator }
            bytes += frame
        }
        // One empty frame and no frames would both encode as nothing; the latter wins.
        return bytes.count == 1 + (limitsChoice == .custom ? 4 : 0) && frames.count == 1 ? nil : Data(bytes)
    }

    private static func contains(separator frame: Data) -> Bool {
        zip(frame, frame.dropFirst()).contains { $0 == separator[0] && $1 == separator[1] }
    }

    /// The frames of the message itself: without the identity when the reader is a ROUTER.
    var messageFrames: ArraySlice<Data> {
        reader == .router ? frames.dropFirst() : frames[...]
    }

    /// The multipart message the chosen reader would hand to the decoder.
    var multipart: Multipart {
        switch reader {
        case .direct:
            return Multipart(frames: frames)
        case .dealer:
            return Self.received(frames, maxFrames: limits.maxFrames, maxBytes: limits.maxMessageBytes)
        case .router:
            var wire = frames
            if let identity = wire.first, identity.count > Self.maxIdentityBytes {
                wire[0] = identity.prefix(Self.maxIdentityBytes)
            }
            let raw = Self.received(wire, maxFrames: limits.maxFrames + 1, maxBytes: limits.maxMessageBytes + Self.maxIdentityBytes)
            guard let identity = raw.frames.first else { return raw }
            return Multipart(frames: Array(raw.frames.dropFirst()), discardedFrames: raw.discardedFrames, byteCount: raw.byteCount - identity.count)
        }
    }

    /// `ZMQSocket.receive(maxFrames:maxBytes:)`'s rule: keep frames while both bounds hold,
    /// then count the rest without keeping them.
    static func received(_ frames: [Data], maxFrames: Int, maxBytes: Int) -> Multipart {
        var kept: [Data] = []
        var discarded = 0
        var byteCount = 0
        for frame in frames {
            byteCount += frame.count
            if discarded == 0 && kept.count < maxFrames && byteCount <= maxBytes {
                kept.append(frame)
            } else {
                discarded += 1
            }
        }
        return Multipart(frames: kept, discardedFrames: discarded, byteCount: byteCount)
    }
}
