import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `--log` CSV: one row per iteration, `iteration,total,content,style_1,…,style_n,tv,elapsed_s`,
/// flushed as it goes so that an interrupted render still leaves its log. A coarse-to-fine
/// render (`stageCount` > 1) puts `stage,width,height` first and counts `iteration` within
/// each stage (0 is the stage's starting point); `elapsed_s` runs on over all stages.
public final class LossLogWriter {
    private let file: UnsafeMutablePointer<FILE>
    public let path: String
    let stageColumns: Bool

    public init(path: String, styleCount: Int, stageCount: Int = 1) throws {
        guard let file = fopen(path, "w") else {
            throw EngineError(.io, "cannot write the loss log '\(path)'", cause: String(cString: strerror(errno)))
        }
        self.file = file
        self.path = path
        stageColumns = stageCount > 1
        let styles = (1...max(styleCount, 1)).map { "style_\($0)" }.joined(separator: ",")
        try write((stageColumns ? "stage,width,height," : "") + "iteration,total,content,\(styles),tv,elapsed_s\n")
    }

    public static func row(_ progress: RenderProgress, stageColumns: Bool = false) -> String {
        let l = progress.losses
        let stage = progress.stage
        let stageFields = stageColumns ? [stage.map { String($0.index) } ?? "", stage.map { String($0.width) } ?? "",
                                          stage.map { String($0.height) } ?? ""] : []
        let fields = stageFields + [String(stage?.iteration ?? progress.iteration), format(l.total), format(l.content)] + l.styles.map(format)
            + [format(l.tv), String(format: "%.3f", progress.elapsed)]
        return fields.joined(separator: ",")
    }

    /// Full precision, shortest round-tripping form.
    static func format(_ value: Double) -> String { "\(value)" }

    public func append(_ progress: RenderProgress) throws {
        try write(Self.row(progress, stageColumns: stageColumns) + "\n")
    }

    private func write(_ line: String) throws {
        guard fputs(line, file) >= 0, fflush(file) == 0 else {
            throw EngineError(.io, "cannot write the loss log '\(path)'", cause: String(cString: strerror(errno)))
        }
    }

    deinit { fclose(file) }
}
