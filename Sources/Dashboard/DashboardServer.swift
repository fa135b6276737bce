public import Coordinator
import Farm
import Foundation
public import Hummingbird
public import Logging
import Protocol

/// The coordinator's HTTP side, run beside its ZeroMQ loop in one service group: the JSON API
/// (`/api/v1/status`, `/api/v1/jobs/<id>`: the same `FarmStatusDocument` that `stylefarm status`
/// and `watch` decode), the operator actions (`DashboardServer+Actions.swift`) and `/metrics`.
/// It reads the records and the loop's snapshot of its workers; it never touches the loop's
/// sockets or sessions (actions are handed to the loop).
public enum DashboardServer {
    /// The HTTP application for `service`, listening on `host:port` (0: any free port). Calls
    /// `onListening` with the bound port once the server runs. `metrics`: the registry whose
    /// instruments the service was built with (`FarmMetrics.coordinator`); without one, `/metrics`
    /// shows only what the records say.
    public static func application(service: CoordinatorService, host: String, port: Int, access: HTTPAccess, logger: Logger,
                                   events: LiveEvents = LiveEvents(),
                                   metrics: FarmMetrics = FarmMetrics(),
                                   onListening: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.get("api/v1/status") { request, _ -> Response in
            guard access.mayRead(request.headers[.authorization]) else { return unauthorized() }
            let limit = request.uri.queryParameters.get("limit", as: Int.self)
            guard limit.map({ (1...StatusQuery.maximumLimit).contains($0) }) ?? true else {
                return problem(.badRequest, "limit must be 1…\(StatusQuery.maximumLimit)")
            }
            return try json(service.statusDocument(StatusQuery(limit: limit)))
        }
        router.get("api/v1/jobs/:id") { request, context -> Response in
            guard access.mayRead(request.headers[.authorization]) else { return unauthorized() }
            let id = try context.parameters.require("id")
            let document = try service.statusDocument(StatusQuery(jobID: id))
            guard !document.jobs.isEmpty else { return problem(.notFound, "no job \(id.prefix(64))") }
            return try json(document)
        }
        addPreviewRoutes(to: router, service: service, access: access)
        router.get("metrics") { request, _ -> Response in
            guard access.mayRead(request.headers[.authorization]) else { return unauthorized() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: try metrics.scrape(service))))
        }
        addActionRoutes(to: router, service: service, access: access)
        DashboardPages(service: service, access: access, events: events).register(on: router)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "stylefarm"),
                           onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    static func json(_ document: FarmStatusDocument) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(document))))
    }

    static func unauthorized() -> Response {
        problem(.unauthorized, "this needs the coordinator's HTTP token: Authorization: Bearer <token>")
    }

    static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
