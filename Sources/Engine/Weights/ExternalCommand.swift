internal import Foundation

/// Runs a helper program to completion with its output captured in a file (so a chatty child
/// can never block on a full pipe).
enum ExternalCommand {
    struct Result {
        let status: Int32
        let output: String

        /// The last lines of output, for error messages.
        var tail: String {
            output.split(separator: "\n").suffix(5).joined(separator: "\n")
        }
    }

    static func run(_ executable: String, _ arguments: [String], outputDirectory: String) throws -> Result {
        let logPath = outputDirectory + "/command-\(UInt64.random(in: 0...UInt64.max)).log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
              let log = FileHandle(forWritingAtPath: logPath) else {
            throw EngineError(.io, "cannot create \(logPath) for the output of \(executable)")
        }
        defer { try? log.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
        } catch {
            throw EngineError(.io, "cannot start \(executable)", cause: String(describing: error))
        }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return Result(status: process.terminationStatus, output: output)
    }
}
