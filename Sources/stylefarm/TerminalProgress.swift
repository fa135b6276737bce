import Engine
import Foundation

/// A progress bar with the current losses when stderr is a terminal; plain lines otherwise
/// (every `plainEvery` iterations and the last), so logs from CI or a farm node stay readable.
struct TerminalProgress {
    let isTerminal = isatty(STDERR_FILENO) == 1
    let plainEvery: Int

    init(plainEvery: Int = 10) { self.plainEvery = plainEvery }

    func show(_ p: RenderProgress) {
        let styles = p.losses.styles.enumerated().map { "s\($0.offset + 1) \(Self.short($0.element))" }.joined(separator: " ")
        let rate = p.iteration > 0 ? p.elapsed / Double(p.iteration) : 0
        let eta = rate * Double(p.iterations - p.iteration)
        let stage = p.stage.map { "stage \($0.index)/\($0.count) \($0.width)×\($0.height) " } ?? ""
        let text = "\(stage)\(p.iteration)/\(p.iterations) loss \(Self.short(p.losses.total)) (content \(Self.short(p.losses.content)) \(styles) tv \(Self.short(p.losses.tv))) \(String(format: "%.2f", rate)) s/it ETA \(Self.duration(eta))"
        if isTerminal {
            let width = 24
            let filled = p.iterations > 0 ? width * p.iteration / p.iterations : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K[\(bar)] \(text)".utf8))
            if p.iteration == p.iterations { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if p.iteration % plainEvery == 0 || p.iteration == p.iterations {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    static func short(_ v: Double) -> String { String(format: "%.4g", v) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
