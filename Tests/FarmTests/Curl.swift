import Foundation
import TestSupport

/// HTTP from the tests through curl, a real client: status, body and Content-Type.
enum Curl {
    struct Reply {
        var status: Int
        var body: Data
        var contentType: String
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// `curl -s` with `arguments` before `url`.
    static func run(_ url: String, _ arguments: [String] = []) throws -> Reply {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-w", "\n%{http_code} %{content_type}"] + arguments + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let newline = output.lastIndex(of: UInt8(ascii: "\n")) else { throw TestFailure("curl gave nothing for \(url)") }
        let trailer = String(decoding: output[(newline + 1)...], as: UTF8.self).split(separator: " ", maxSplits: 1)
        guard let status = trailer.first.flatMap({ Int($0) }) else { throw TestFailure("curl gave no status for \(url)") }
        return Reply(status: status, body: Data(output[..<newline]), contentType: trailer.count > 1 ? String(trailer[1]) : "")
    }
}
