internal import Foundation

/// Whole-file reads and atomic writes, with errors that say which file and why.
enum FileBytes {
    static func read(_ path: String, what: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw EngineError(.io, "cannot read \(what) at \(path)", cause: String(describing: error))
        }
    }

    /// Temp file in the target directory + rename (Foundation's `.atomic`); creates the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, what: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw EngineError(.io, "cannot write \(what) to \(path)", cause: String(describing: error))
        }
    }
}
