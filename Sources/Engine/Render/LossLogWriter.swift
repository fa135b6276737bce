import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `--log` CSV: one row per iteration,
/// `iteration,total,content,style_1,…,style_n,tv,elapsed_s,ri_1,…,ri_n,sigma_1,…,sigma_n`,
/// flushed as it goes so that an interrupted render still leaves its log. `ri_i` is style i's
/// relative improvement so far (its loss at the stage's start over its loss now, Froehling's
/// RI) and `sigma_i` the balancing factor σᵢ the render uses. A coarse-to-fine render
/// (`stageCount` > 1) puts `stage,width,height` first and counts `iteration` within each stage
/// (0 is the stage's starting point); `elapsed_s` runs on over all stages.
public final class LossLogWriter {
    private let file: UnsafeMutablePointer<FILE>
    public let path: String
    let stageColumns: Bool
    let sigmas: [Float]
    /// The losses at the current stage's start, for `ri_i`.
    private var stageStart: LossBreakdown?

    public init(path: String, styleCount: Int, stageCount: Int = 1, sigmas: [Float] = []) throws {
        guard let file = fopen(path, "w") else {
            throw EngineError(.io, "cannot write the loss log '\(path)'", cause: String(cString: strerror(errno)))
        }
        self.file = file
        self.path = path
        stageColumns = stageCount > 1
        self.sigmas = sigmas.count == styleCount ? sigmas : [Float](repeating: 1, count: styleCount)
        let numbers = 1...max(styleCount, 1)
        let styles = numbers.map { "style_\($0)" }.joined(separator: ",")
        let balance = (numbers.map { "ri_\($0)" } + numbers.map { "sigma_\($0)" }).joined(separator: ",")
        try write((stageColumns ? "stage,width,height," : "") + "iteration,total,content,\(styles),tv,elapsed_s,\(balance)\n")
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
        if (progress.stage?.iteration ?? progress.iteration) == 0 || stageStart?.styles.count != progress.losses.styles.count {
            stageStart = progress.losses
        }
        let ri = progress.losses.relativeImprovement(since: stageStart ?? progress.losses).map(Self.format)
        let balance = (ri + sigmas.map { Self.format(Double($0)) }).joined(separator: ",")
        try write(Self.row(progress, stageColumns: stageColumns) + "," + balance + "\n")
    }

    private func write(_ line: String) throws {
        guard fputs(line, file) >= 0, fflush(file) == 0 else {
            throw EngineError(.io, "cannot write the loss log '\(path)'", cause: String(cString: strerror(errno)))
        }
    }

    deinit { fclose(file) }
}
