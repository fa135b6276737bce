#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Whole-file reads and atomic whole-file writes over POSIX calls, so that every failure
/// keeps its errno text as the error's cause.
enum FileBytes {
    /// Reads the regular file at `path`. `what` names the file in messages ("image 'x.png'").
    /// A file over `maxBytes` is refused with `.imageTooLarge` before anything is read.
    static func read(path: String, what: String, maxBytes: Int = .max) throws(EngineError) -> [UInt8] {
        let fd = try retryingEINTR("cannot open \(what); check the path") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { _ = close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw errnoError("cannot read \(what)") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw EngineError(.io, "cannot read \(what): it is not a regular file (a directory?)")
        }
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw EngineError(
                .imageTooLarge,
                "\(what) is a \(size)-byte file, more than any image within the pixel limit can take; "
                    + "set --max-pixels to raise the limit"
            )
        }
        var failure: EngineError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                let got = posixRead(fd, buffer.baseAddress! + count, size - count)
                if got > 0 {
                    count += got
                } else if got == 0 {
                    break  // the file shrank since fstat; keep what is there
                } else if errno != EINTR {
                    failure = errnoError("cannot read \(what)")
                    return
                }
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory, flushed and then
    /// renamed over `path`, so that a crash leaves either the old file or the whole new one.
    static func writeAtomically(_ bytes: [UInt8], to path: String, what: String) throws(EngineError) {
        let temporary = "\(path).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = try retryingEINTR("cannot create \(what); check that the directory exists and is writable") {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        var closed = false
        do throws(EngineError) {
            try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(EngineError) in
                let raw = UnsafeRawBufferPointer(buffer)
                var written = 0
                while written < raw.count {
                    let done = write(fd, raw.baseAddress! + written, raw.count - written)
                    if done >= 0 {
                        written += done
                    } else if errno != EINTR {
                        throw errnoError("cannot write \(what)")
                    }
                }
            }
            guard fsync(fd) == 0 else { throw errnoError("cannot write \(what)") }
            closed = true
            guard close(fd) == 0 else { throw errnoError("cannot write \(what)") }
            guard rename(temporary, path) == 0 else { throw errnoError("cannot write \(what)") }
        } catch {
            if !closed { _ = close(fd) }
            _ = unlink(temporary)
            throw error
        }
    }

    private static func retryingEINTR(_ message: String, _ call: () -> Int32) throws(EngineError) -> Int32 {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno != EINTR { throw errnoError(message) }
        }
    }

    private static func errnoError(_ message: String) -> EngineError {
        let code = errno
        return EngineError(.io, message, cause: String(cString: strerror(code)))
    }
}

/// `read(2)`, reachable by this name inside `FileBytes`, whose own `read` hides it.
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
