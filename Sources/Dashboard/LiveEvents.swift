import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization

/// Server-sent events for the pages: every `interval` the page's fragments are rendered again
/// and those that changed since the last event are sent as one `fragments` event (a JSON
/// object, fragment id → HTML). A page with nothing new costs one render and no bytes.
///
/// Streams are bounded (`maximumStreams`; more are refused with 503), each ends after
/// `lifetime` (the browser's EventSource reconnects by itself), and every stream ends at the
/// coordinator's graceful shutdown, so that an open page never holds up a SIGTERM.
public final class LiveEvents: Sendable {
    let interval: Duration
    let lifetime: Duration
    let maximumStreams: Int
    private let open = Atomic<Int>(0)

    public init(interval: Duration = .seconds(1), lifetime: Duration = .seconds(300), maximumStreams: Int = 32) {
        self.interval = interval
        self.lifetime = lifetime
        self.maximumStreams = maximumStreams
    }

    /// Pages (event streams) open now.
    public var openStreams: Int { open.load(ordering: .relaxed) }

    /// A stream of `render()`'s changes; nil when too many streams are open already. `render`
    /// returns nil when it can tell cheaply that nothing changed since its last call.
    func stream(render: @escaping @Sendable () throws -> [PageShell.Fragment]?) -> Response? {
        guard open.add(1, ordering: .relaxed).newValue <= maximumStreams else {
            open.subtract(1, ordering: .relaxed)
            return nil
        }
        let interval = interval, lifetime = lifetime
        let body = ResponseBody { [self] writer in
            defer { open.subtract(1, ordering: .relaxed) }
            var sent: [String: String] = [:]
            let ends = ContinuousClock.now + lifetime
            var lastWrite = ContinuousClock.now
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            while !Task.isCancelled, !Task.isShuttingDownGracefully, ContinuousClock.now < ends {
                var changed: [String: String] = [:]
                for fragment in ((try? render()) ?? nil) ?? [] where sent[fragment.id] != fragment.html {
                    changed[fragment.id] = fragment.html
                    sent[fragment.id] = fragment.html
                }
                if !changed.isEmpty {
                    try await writer.write(ByteBuffer(string: "event: fragments\ndata: " + Self.json(changed) + "\n\n"))
                    lastWrite = .now
                } else if ContinuousClock.now - lastWrite > .seconds(15) {
                    // A comment keeps proxies from closing the stream and finds a closed page.
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    lastWrite = .now
                }
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
                } catch {
                    break
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    /// One line of JSON (SSE data must not contain a bare newline; JSONEncoder escapes them).
    static func json(_ fragments: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(fragments)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
