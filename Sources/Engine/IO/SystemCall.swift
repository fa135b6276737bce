#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The one funnel for POSIX errors in the engine's file code: retry `EINTR`, and turn errno
/// into an `EngineError` that keeps its text as the cause.
enum SystemCall {
    /// Runs `call` until it returns a non-negative result or fails with something other than EINTR.
    static func retryingEINTR(_ message: String, _ call: () -> Int32) throws(EngineError) -> Int32 {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno != EINTR { throw errnoError(message) }
        }
    }

    /// `message`, with the current errno's text as the cause.
    static func errnoError(_ message: String) -> EngineError {
        let code = errno
        return EngineError(.io, message, cause: String(cString: strerror(code)))
    }
}
