import Foundation

/// Who may use the coordinator's HTTP side. On loopback anyone on the machine may read; every
/// action needs the token. Off loopback, reading needs the token too (unless the operator chose
/// `--http-insecure`, for a network they trust).
public struct HTTPAccess: Sendable {
    /// The shared secret from `--http-token FILE`; nil when none was given.
    public let token: String?
    /// Whether reading (status, metrics) needs the token.
    public let tokenNeededToRead: Bool

    public init(token: String?, tokenNeededToRead: Bool) {
        self.token = token
        self.tokenNeededToRead = tokenNeededToRead
    }

    /// Reads the token file: its first line, at least 16 characters (a guessable token is no
    /// protection).
    public static func readToken(file: String) throws -> String {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let token = text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        guard token.utf8.count >= 16 else {
            throw HTTPAccessError(message: "the token in \(file) is shorter than 16 characters")
        }
        return token
    }

    /// Whether an `Authorization` header carries the token (compared in constant time).
    public func authorizes(_ header: String?) -> Bool {
        guard let token, let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8), expected = Array(token.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    public func mayRead(_ header: String?) -> Bool { !tokenNeededToRead || authorizes(header) }
}

public struct HTTPAccessError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
