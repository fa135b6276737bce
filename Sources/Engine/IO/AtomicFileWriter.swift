#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A file written piece by piece that appears at its path complete or not at all: bytes go to
/// a temporary file beside it, which `commit()` flushes to disk and renames over the path.
/// Anything else (`abandon()`, an error, or dropping the writer) removes the temporary file.
///
/// Not thread-safe: one owner writes.
final class AtomicFileWriter {
    /// Names the file in messages ("image 'x.png'").
    let what: String
    private var fd: Int32
    /// nil when writing straight to a descriptor the caller opened (tests use /dev/full).
    private let temporaryPath: String?
    private let path: String?
    private var isOpen = true

    /// Creates the temporary file next to `path`.
    init(path: String, what: String) throws(EngineError) {
        let temporary = "\(path).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = try SystemCall.retryingEINTR("cannot create \(what); check that the directory exists and is writable") {
            open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        self.what = what
        self.path = path
        temporaryPath = temporary
    }

    /// Writes to an already open descriptor, which this writer then owns and closes. `commit()`
    /// only flushes and closes it; nothing is renamed or removed.
    init(descriptor: Int32, what: String) {
        fd = descriptor
        self.what = what
        path = nil
        temporaryPath = nil
    }

    deinit { abandon() }

    /// Writes all of `bytes`, retrying short writes and EINTR.
    func write(_ bytes: UnsafeRawBufferPointer) throws(EngineError) {
        guard isOpen else { throw EngineError(.io, "cannot write \(what): the file is already closed") }
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let done = posixWrite(fd, base + written, bytes.count - written)
            if done >= 0 {
                written += done
            } else if errno != EINTR {
                throw SystemCall.errnoError("cannot write \(what)")
            }
        }
    }

    /// Flushes the file to disk, closes it and renames it over the path. On failure the
    /// temporary file is removed and the path is left as it was.
    func commit() throws(EngineError) {
        guard isOpen else { throw EngineError(.io, "cannot write \(what): the file is already closed") }
        // fsync is refused by some character devices (EINVAL); the data is still written.
        if fsync(fd) != 0, errno != EINVAL {
            let error = SystemCall.errnoError("cannot write \(what)")
            abandon()
            throw error
        }
        isOpen = false
        guard close(fd) == 0 else {
            let error = SystemCall.errnoError("cannot write \(what)")
            removeTemporary()
            throw error
        }
        if let temporaryPath, let path, rename(temporaryPath, path) != 0 {
            let error = SystemCall.errnoError("cannot write \(what)")
            removeTemporary()
            throw error
        }
    }

    /// Closes and removes the temporary file, if still open. Safe to call more than once.
    func abandon() {
        guard isOpen else { return }
        isOpen = false
        _ = close(fd)
        removeTemporary()
    }

    private func removeTemporary() {
        if let temporaryPath { _ = unlink(temporaryPath) }
    }
}

/// `write(2)`, reachable by this name inside `AtomicFileWriter`, whose own `write` hides it.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
