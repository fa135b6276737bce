internal import Engine
internal import Foundation
public import Protocol

/// The job's `losses.csv`: every loss-log line of every task,
/// `task,attempt,parameters,iteration,total,content,style_1,…,style_n,tv,elapsed_s,ri_1,…,ri_n,sigma_1,…,sigma_n`:
/// `ri_i` is style i's relative improvement so far in that attempt (its loss at the attempt's
/// first line over its loss now) and `sigma_i` the balancing factor the task rendered with.
/// Fields are quoted as RFC 4180 says; rows end in LF, like the render's `--log`.
public enum LossesCSV {
    public static func header(styleCount: Int) -> String {
        let numbers = 1...max(styleCount, 1)
        let styles = numbers.map { "style_\($0)" }
        return (["task", "attempt", "parameters", "iteration", "total", "content"] + styles + ["tv", "elapsed_s"]
            + numbers.map { "ri_\($0)" } + numbers.map { "sigma_\($0)" })
            .joined(separator: ",")
    }

    /// One row, without its line ending. Exactly `styleCount` style columns: a line with fewer
    /// styles leaves the rest empty, one with more keeps only the first `styleCount`.
    /// `start`: the style losses of the attempt's first line (empty: RI unknown); `sigmas`: the
    /// task's σ (empty: unknown). Unknown values are left empty.
    public static func row(task: String, attempt: Int, parameters: [PlannedTask.Parameter],
                           line: FarmRecords.LossLine, styleCount: Int, start: [Double] = [], sigmas: [Float] = []) -> String {
        let count = max(styleCount, 1)
        let styles = (0..<count).map { $0 < line.styles.count ? number(line.styles[$0]) : "" }
        let ri = (0..<count).map { i in
            i < start.count && i < line.styles.count && line.styles[i] > 0 ? number(start[i] / line.styles[i]) : ""
        }
        let sigma = (0..<count).map { $0 < sigmas.count ? number(Double(sigmas[$0])) : "" }
        let fields = [escape(task), String(attempt), escape(parameterField(parameters)), String(line.iteration),
                      number(line.total), number(line.content)] + styles
            + [number(line.tv), line.elapsed.isFinite ? String(format: "%.3f", line.elapsed) : number(line.elapsed)]
            + ri + sigma
        return fields.joined(separator: ",")
    }

    /// "gamma=0.3;beta=1000": `;` between parameters so that the field needs no quoting.
    public static func parameterField(_ parameters: [PlannedTask.Parameter]) -> String {
        parameters.map { "\($0.name)=\(SweepPlanner.format($0.value))" }.joined(separator: ";")
    }

    /// `field` as RFC 4180 writes it: in double quotes, with quotes doubled, when it holds a
    /// comma, a double quote, CR or LF (or starts or ends with a space); else as it is.
    public static func escape(_ field: String) -> String {
        let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
            || field.hasPrefix(" ") || field.hasSuffix(" ")
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Full precision, shortest round-tripping form (as the render's `--log`).
    static func number(_ value: Double) -> String { "\(value)" }
}

/// Appends rows to a job's `losses.csv`, one write per batch (a progress message's lines), so
/// that a coordinator killed mid-job leaves whole rows. Reopening an existing file with the
/// same header appends to it; a file with another header is refused rather than mixed.
/// Not thread-safe: one owner (the job's output writer) uses it.
public final class LossesCSVWriter {
    public let path: String
    public let styleCount: Int
    private let handle: FileHandle

    public init(path: String, styleCount: Int) throws {
        self.path = path
        self.styleCount = max(styleCount, 1)
        let header = LossesCSV.header(styleCount: self.styleCount)
        let manager = FileManager.default
        if let firstLine = try Self.firstLine(of: path, upTo: header.utf8.count + 1), !firstLine.isEmpty {
            guard firstLine == header else {
                throw EngineError(.io, "'\(path)' exists with another header than \(header); move it away or write the job's outputs to a new folder")
            }
        } else if !manager.createFile(atPath: path, contents: Data((header + "\n").utf8)) {
            throw EngineError(.io, "cannot create the loss table '\(path)'; check that its folder exists and is writable")
        }
        do {
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
        } catch {
            throw EngineError(.io, "cannot open the loss table '\(path)' for writing", cause: "\(error)")
        }
    }

    /// The start of an existing file up to its first LF (at most `limit` bytes); nil when absent.
    static func firstLine(of path: String, upTo limit: Int) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? reader.close() }
            let bytes = try reader.read(upToCount: limit) ?? Data()
            return String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        } catch {
            throw EngineError(.io, "cannot read the existing loss table '\(path)'", cause: "\(error)")
        }
    }

    /// Appends one row per line of a task's attempt, in one write.
    public func append(task: String, attempt: Int, parameters: [PlannedTask.Parameter], lines: [FarmRecords.LossLine],
                       start: [Double] = [], sigmas: [Float] = []) throws {
        guard !lines.isEmpty else { return }
        let text = lines.map {
            LossesCSV.row(task: task, attempt: attempt, parameters: parameters, line: $0, styleCount: styleCount,
                          start: start, sigmas: sigmas) + "\n"
        }.joined()
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw EngineError(.io, "cannot write the loss table '\(path)'", cause: "\(error)")
        }
    }

    /// Pushes written rows to the disk (fsync); call at the end of a job, not per batch.
    public func synchronize() throws {
        do {
            try handle.synchronize()
        } catch {
            throw EngineError(.io, "cannot flush the loss table '\(path)' to disk", cause: "\(error)")
        }
    }

    deinit { try? handle.close() }
}
