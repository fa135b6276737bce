public import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A key file could not be read or written.
public struct CurveKeyFileError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case notFound, unreadable, malformed, insecurePermissions, alreadyExists, writeFailed
    }

    public var code: Code
    public var path: String
    public var message: String
    /// The errno of the failing system call, if any.
    public var errno: Int32?

    public init(code: Code, path: String, message: String, errno: Int32? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.errno = errno
    }

    public var description: String { "\(path): \(message)" }
}

/// Key files: `NAME.key` holds the public key (world-readable, safe to copy to the coordinator's
/// allow-list), `NAME.key_secret` the secret key (mode 0600, refused when group or others can
/// read it). Both are text:
///
/// ```
/// # StyleFarm CURVE public key "worker-7"
/// public-key: rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
/// ```
///
/// Z85 uses `#`, so keys are found by their label, never by skipping comment-looking lines.
public enum CurveKeyFile {
    public static let publicExtension = "key"
    public static let secretExtension = "key_secret"

    /// Writes `NAME.key` and `NAME.key_secret` into `directory`; never overwrites.
    @discardableResult
    public static func write(_ pair: CurveKeyPair, name: String, directory: URL) throws(CurveKeyFileError) -> (publicFile: URL, secretFile: URL) {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw CurveKeyFileError(code: .writeFailed, path: directory.path, message: "key name '\(name)' must be non-empty, without '/' and not start with '.'")
        }
        let publicFile = directory.appendingPathComponent("\(name).\(publicExtension)")
        let secretFile = directory.appendingPathComponent("\(name).\(secretExtension)")
        let secretText = "# StyleFarm CURVE secret key \"\(name)\": keep private, never copy it off this machine\npublic-key: \(pair.publicKey.z85)\nsecret-key: \(pair.secretKey.z85)\n"
        let publicText = "# StyleFarm CURVE public key \"\(name)\"\npublic-key: \(pair.publicKey.z85)\n"
        // Secret first: if it cannot be written, no orphan public file is left behind.
        try create(secretFile, contents: secretText, mode: 0o600)
        do {
            try create(publicFile, contents: publicText, mode: 0o644)
        } catch {
            unlink(secretFile.path)
            throw error
        }
        return (publicFile, secretFile)
    }

    /// Reads a public key file (`NAME.key`), or a secret key file's public line.
    public static func readPublicKey(at url: URL) throws(CurveKeyFileError) -> CurveKey {
        let text = try read(url)
        guard let z85 = value(labelled: "public-key", in: text) else {
            throw CurveKeyFileError(code: .malformed, path: url.path, message: "no 'public-key: <40 Z85 characters>' line; is this a StyleFarm key file?")
        }
        guard let key = CurveKey(z85: z85) else {
            throw CurveKeyFileError(code: .malformed, path: url.path, message: "the public key is not 40 valid Z85 characters")
        }
        return key
    }

    /// Reads a secret key file (`NAME.key_secret`), refusing one that group or others can read.
    public static func readKeyPair(secretFile url: URL) throws(CurveKeyFileError) -> CurveKeyPair {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            let error = errno
            throw CurveKeyFileError(code: error == ENOENT ? .notFound : .unreadable, path: url.path, message: "cannot read the secret key file: \(String(cString: strerror(error)))", errno: error)
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CurveKeyFileError(code: .insecurePermissions, path: url.path, message: "the secret key file is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 on it")
        }
        let text = try read(url)
        guard let secretZ85 = value(labelled: "secret-key", in: text), let secret = CurveSecretKey(z85: secretZ85) else {
            throw CurveKeyFileError(code: .malformed, path: url.path, message: "no valid 'secret-key: <40 Z85 characters>' line")
        }
        let derived: CurveKey
        do {
            derived = try secret.publicKey()
        } catch {
            throw CurveKeyFileError(code: .malformed, path: url.path, message: "cannot derive the public key: \(error)")
        }
        if let listed = value(labelled: "public-key", in: text), listed != derived.z85 {
            throw CurveKeyFileError(code: .malformed, path: url.path, message: "the public-key line does not belong to the secret key; the file was edited or mixed up")
        }
        return CurveKeyPair(publicKey: derived, secretKey: secret)
    }

    private static func value(labelled label: String, in text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(label + ":") {
                return trimmed.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    private static func read(_ url: URL) throws(CurveKeyFileError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let missing = !FileManager.default.fileExists(atPath: url.path)
            throw CurveKeyFileError(code: missing ? .notFound : .unreadable, path: url.path, message: missing ? "no such key file" : "cannot read the key file: \(error)")
        }
        guard data.count <= 4096, let text = String(data: data, encoding: .utf8) else {
            throw CurveKeyFileError(code: .malformed, path: url.path, message: "not a key file (over 4 KiB or not UTF-8)")
        }
        return text
    }

    /// Creates `url` with `mode` from the start (no window where a secret is world-readable).
    private static func create(_ url: URL, contents: String, mode: mode_t) throws(CurveKeyFileError) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let error = errno
            throw CurveKeyFileError(code: error == EEXIST ? .alreadyExists : .writeFailed, path: url.path,
                                    message: error == EEXIST ? "a key file already exists here; remove it first or choose another name" : "cannot create the key file: \(String(cString: strerror(error)))", errno: error)
        }
        defer { close(fd) }
        // The umask may have narrowed the mode; make it exactly what was asked.
        fchmod(fd, mode)
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBufferPointer { buffer in
                posixWrite(fd, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if result < 0 {
                let error = errno
                if error == EINTR { continue }
                unlink(url.path)
                throw CurveKeyFileError(code: .writeFailed, path: url.path, message: "cannot write the key file: \(String(cString: strerror(error)))", errno: error)
            }
            written += result
        }
    }
}

/// `write(2)`, renamed because `CurveKeyFile.write` shadows it.
private func posixWrite(_ fd: Int32, _ pointer: UnsafePointer<UInt8>?, _ count: Int) -> Int {
    write(fd, pointer, count)
}
