/// The one error type the engine throws. Every message says what was wrong and what to do,
/// e.g. "style image 'x.jpg' is 40000×40000 (1.6 GP); the limit is 100 MP, set --max-pixels to raise it".
public struct EngineError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        public static let invalidImage = Code(name: "invalid-image")
        public static let unsupportedImage = Code(name: "unsupported-image")
        public static let imageTooLarge = Code(name: "image-too-large")
        public static let io = Code(name: "io")
        public static let weightsMissing = Code(name: "weights-missing")
        public static let weightsCorrupt = Code(name: "weights-corrupt")
        public static let invalidArgument = Code(name: "invalid-argument")
        public static let numeric = Code(name: "numeric")
        public static let cancelled = Code(name: "cancelled")
        /// Something that should have worked did not; the message says what.
        public static let failed = Code(name: "failed")
    }

    public let code: Code
    public let message: String
    /// The underlying cause in words (errno text, a C library's message), when there is one.
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }
}
