import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `--log` CSV: one row per iteration, `iteration,total,content,style_1,…,style_n,tv,elapsed_s`,
/// flushed as it goes so that an interrupted render still leaves its log.
public final class LossLogWriter {
    private let file: UnsafeMutablePointer<FILE>
    public let path: String

    public init(path: String, styleCount: Int) throws {
        guard let file = fopen(path, "w") else {
            throw EngineError(.io, "cannot write the loss log '\(path)'", cause: String(cString: strerror(errno)))
        }
        self.file = file
        self.path = path
        let styles = (1...max(styleCount, 1)).map { "style_\($0)" }.joined(separator: ",")
        try write("iteration,total,content,\(styles),tv,elapsed_s\n")
    }

    public static func row(_ progress: RenderProgress) -> String {
        let l = progress.losses
        let fields = [String(progress.iteration), format(l.total), format(l.content)] + l.styles.map(format)
            + [format(l.tv), String(format: "%.3f", progress.elapsed)]
        return fields.joined(separator: ",")
    }

    /// Full precision, shortest round-tripping form.
    static func format(_ value: Double) -> String { "\(value)" }

    public func append(_ progress: RenderProgress) throws {
        try write(Self.row(progress) + "\n")
    }

    private func write(_ line: String) throws {
        guard fputs(line, file) >= 0, fflush(file) == 0 else {
            throw EngineError(.io, "cannot write the loss log '\(path)'", cause: String(cString: strerror(errno)))
        }
    }

    deinit { fclose(file) }
}
