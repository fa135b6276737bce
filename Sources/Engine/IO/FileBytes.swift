#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Whole-file reads and atomic whole-file writes over POSIX calls, so that every failure
/// keeps its errno text as the error's cause.
public enum FileBytes {
    /// Reads the regular file at `path`. `what` names the file in messages ("image 'x.png'").
    /// A file over `maxBytes` is refused with `.imageTooLarge` before anything is read.
    public static func read(path: String, what: String, maxBytes: Int = .max) throws(EngineError) -> [UInt8] {
        let fd = try SystemCall.retryingEINTR("cannot open \(what); check the path") { open(path, O_RDONLY | O_CLOEXEC) }
        defer { _ = close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemCall.errnoError("cannot read \(what)") }
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
                    failure = SystemCall.errnoError("cannot read \(what)")
                    return
                }
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory, flushed and then
    /// renamed over `path`, so that a crash leaves either the old file or the whole new one.
    /// Writes `bytes` durably: a temporary file beside `path`, fsync, rename.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, what: String) throws(EngineError) {
        let file = try AtomicFileWriter(path: path, what: what)
        try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(EngineError) in
            try file.write(UnsafeRawBufferPointer(buffer))
        }
        try file.commit()
    }
}

/// `read(2)`, reachable by this name inside `FileBytes`, whose own `read` hides it.
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
