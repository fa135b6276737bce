import Foundation
import Protocol

/// What one fuzz input runs: the decoders a node applies to every message it receives.
///
/// A thrown ``ProtocolError`` is an expected outcome. A trap anywhere is a finding, and so is a
/// broken invariant checked here with `preconditionFailure` (a message that decoded but cannot
/// be sent again), so that libFuzzer records it like a crash.
enum DecoderTarget {
    /// One decoder's outcome, for `--explain`.
    struct Observation {
        var decoder: String
        /// For the header decoder on its own: the kind the header was decoded as.
        var kind: MessageKind? = nil
        var outcome: Result<Message, ProtocolError>
    }

    static func exercise(_ input: FuzzInput, observe: ((Observation) -> Void)? = nil) {
        // 1. The envelope and the header behind it, as `RoutedMessage.decode(limits:)` does.
        let multipart = input.multipart
        let received = Result { () throws(ProtocolError) in try Message(decoding: multipart, limits: input.limits) }
        observe?(Observation(decoder: "Message(decoding: multipart, limits:)", outcome: received))
        switch received {
        case .success(let message): checkResendable(message)
        case .failure(let error): reply(to: error)
        }

        // 2. The header decoder on its own, for every kind: the header is frame 2 when there is
        //    one, else the last frame, so that inputs the envelope refuses still reach it.
        let frames = input.messageFrames
        let headerIndex = frames.startIndex + WireMessage.envelopeFrameCount - 1
        let header = headerIndex < frames.endIndex ? frames[headerIndex] : frames.last ?? Data()
        let payloads = Array(frames.dropFirst(WireMessage.envelopeFrameCount))
        for kind in MessageKind.allCases {
            let wire = WireMessage(kind: kind, header: header, payloads: payloads)
            let decoded = Result { () throws(ProtocolError) in try Message(decoding: wire) }
            observe?(Observation(decoder: "Message(decoding: WireMessage(kind:header:payloads:))", kind: kind, outcome: decoded))
            switch decoded {
            case .success(let message): checkResendable(message)
            case .failure(let error): _ = error.description
            }
        }

        // 3. The opaque JSON carried inside headers (settings, specs, summaries).
        if let value = try? JSONValue(jsonData: header) {
            _ = try? value.jsonData()
        }
    }

    /// What the coordinator does with a refused message: log it and answer with its code.
    private static func reply(to error: ProtocolError) {
        _ = error.description
        do {
            _ = try ErrorReply(error).wireMessage().frames
        } catch {
            preconditionFailure("the error reply to a refused message does not encode: \(error)")
        }
    }

    /// No limits: the round trip checks the coding, and a header encoded again may be longer
    /// than the one received (`1e300` comes back as `1e+300`).
    private static let unlimited = WireLimits(maxHeaderBytes: .max, maxFrameBytes: .max, maxMessageBytes: .max, maxFrames: .max)

    /// A message that decoded must encode again (the coordinator relays some, and tests echo
    /// them) and decode back as the same kind.
    private static func checkResendable(_ message: Message) {
        let frames: [Data]
        do {
            frames = try message.frames()
        } catch {
            preconditionFailure("a decoded '\(message.kind)' message does not encode again: \(error)")
        }
        do {
            let again = try Message(decoding: Multipart(frames: frames), limits: unlimited)
            precondition(again.kind == message.kind, "a decoded '\(message.kind)' message decodes back as '\(again.kind)'")
        } catch {
            preconditionFailure("a decoded '\(message.kind)' message, encoded again, does not decode: \(error)")
        }
    }
}
