import Foundation
import Logging

/// Logging for the executable only (libraries take a Logger): to stderr, level from LOG_LEVEL.
enum CLILogging {
    private static let once: Void = {
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }()

    static func bootstrap() { _ = once }
}
