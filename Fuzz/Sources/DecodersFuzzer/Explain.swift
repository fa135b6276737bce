import Foundation
import Protocol

/// `--explain FILE…`: what an input (a crash, a corpus entry) means and what each decoder says.
///
/// Lines are written unbuffered as the decoders run, so that an input that traps still shows
/// how far it got.
enum Explain {
    static func report(for data: Data, name: String) -> String {
        let input = FuzzInput(data)
        emit("== \(name) (\(data.count) bytes)")
        let limits = input.limits
        emit("options: limits \(input.limitsChoice) (header \(limits.maxHeaderBytes), frame \(limits.maxFrameBytes), message \(limits.maxMessageBytes), frames \(limits.maxFrames)), reader \(input.reader)")
        emit("frames: \(input.frames.count)")
        for (index, frame) in input.frames.enumerated() {
            emit("  [\(index)] \(frame.count) bytes: \(render(frame))")
        }
        let multipart = input.multipart
        emit("multipart: \(multipart.frames.count) frames kept, \(multipart.discardedFrames) discarded, \(multipart.byteCount) bytes")
        var directOutcomes: [String: [String]] = [:]
        DecoderTarget.exercise(input) { observation in
            let outcome: String
            switch observation.outcome {
            case .success(let message): outcome = "decoded: \(message.kind)"
            case .failure(let error): outcome = "\(error.code): \(error.message)"
            }
            if let kind = observation.kind {
                directOutcomes[outcome, default: []].append(kind.rawValue)
            } else {
                emit("\(observation.decoder) → \(outcome)")
            }
        }
        emit("header decoder on its own, per kind:")
        for (outcome, kinds) in directOutcomes.sorted(by: { $0.key < $1.key }) {
            emit("  \(kinds.joined(separator: " ")) → \(outcome)")
        }
        return "== no trap"
    }

    private static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Text with escapes when the frame is mostly printable, hex otherwise; long frames shortened.
    static func render(_ frame: Data) -> String {
        let limit = 400
        let printable = frame.filter { (0x20...0x7E).contains($0) || $0 == 0x0A || $0 == 0x09 }.count
        let suffix = frame.count > limit ? " … (\(frame.count - limit) more bytes)" : ""
        if frame.isEmpty { return "<empty>" }
        if printable * 4 >= frame.count * 3 {
            var text = ""
            for byte in frame.prefix(limit) {
                switch byte {
                case 0x5C: text += "\\\\"
                case 0x0A: text += "\\n"
                case 0x09: text += "\\t"
                case 0x20...0x7E: text.append(Character(Unicode.Scalar(byte)))
                default: text += "\\x" + hex(byte)
                }
            }
            return "\"\(text)\"" + suffix
        }
        return "hex " + frame.prefix(limit).map(hex).joined() + suffix
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}
