import Coordinator
import Farm
import Foundation
import Hummingbird
import Protocol

/// The action routes: POST only, each with the token (even on loopback), a small strictly
/// decoded JSON body, and a JSON answer — the outcome, or `{"error": …}` with 400 (malformed),
/// 401 (no or wrong token), 403 (the coordinator has no token), 404 (unknown job or worker),
/// 409 (a finished job), 413 (body too large) or 503 (the coordinator is busy or stopping).
/// The action itself runs on the coordinator's loop (`CoordinatorService.perform`).
extension DashboardServer {
    /// Bytes an action's body may have; the largest real one is well under 400.
    static let maximumActionBody = 4096

    static func addActionRoutes(to router: Router<BasicRequestContext>, service: CoordinatorService, access: HTTPAccess) {
        router.post("api/v1/jobs/:id/cancel") { request, context -> Response in
            let job = try context.parameters.require("id")
            return await act(request, access: access, service: service, keys: []) { _ in .cancel(job: job) }
        }
        router.post("api/v1/jobs/:id/priority") { request, context -> Response in
            let job = try context.parameters.require("id")
            return await act(request, access: access, service: service, keys: ["priority"]) { body in
                .setPriority(job: job, priority: try body.decode(PriorityBody.self).priority)
            }
        }
        router.post("api/v1/jobs/:id/block") { request, context -> Response in
            let job = try context.parameters.require("id")
            return await act(request, access: access, service: service, keys: ["worker", "blocked"]) { body in
                let block = try body.decode(BlockBody.self)
                return block.blocked ? .block(job: job, worker: block.worker) : .unblock(job: job, worker: block.worker)
            }
        }
        router.post("api/v1/workers/:id/drain") { request, context -> Response in
            let worker = try context.parameters.require("id")
            return await act(request, access: access, service: service, keys: ["drain"]) { body in
                try body.decode(DrainBody.self).drain ? .drain(worker: worker) : .undrain(worker: worker)
            }
        }
        // Actions change the farm: a GET (a prefetching browser, a crawler) must not.
        for path in ["api/v1/jobs/:id/cancel", "api/v1/jobs/:id/priority", "api/v1/jobs/:id/block", "api/v1/workers/:id/drain"] {
            router.get(RouterPath(path)) { _, _ -> Response in
                var response = problem(.methodNotAllowed, "this is an action: use POST, with the token")
                response.headers[.allow] = "POST"
                return response
            }
        }
    }

    struct PriorityBody: Decodable { var priority: Int }
    struct BlockBody: Decodable { var worker: String; var blocked: Bool }
    struct DrainBody: Decodable { var drain: Bool }

    /// A body that passed the strict checks, to decode into the action's type.
    struct ActionBody {
        var data: Data

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                return try JSONDecoder().decode(type, from: data)
            } catch {
                throw BodyProblem(message: "the body does not decode: \(Self.describe(error))")
            }
        }

        static func describe(_ error: any Error) -> String {
            guard let error = error as? DecodingError else { return "\(error)" }
            switch error {
            case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
            case .typeMismatch(let type, let context): return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is not \(type)"
            case .valueNotFound(_, let context): return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is null"
            case .dataCorrupted(let context): return context.debugDescription
            @unknown default: return "\(error)"
            }
        }
    }

    struct BodyProblem: Error { var message: String }

    /// Checks the token, reads and checks the body (a JSON object with only `keys`, each once),
    /// builds the action and has the coordinator's loop perform it.
    static func act(_ request: Request, access: HTTPAccess, service: CoordinatorService, keys: Set<String>,
                    action: (ActionBody) throws -> FarmAction) async -> Response {
        guard access.token != nil else {
            return problem(.forbidden, "actions need a token, and this coordinator has none: start it with --http-token FILE")
        }
        guard access.authorizes(request.headers[.authorization]) else { return unauthorized() }
        var request = request
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: maximumActionBody)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return problem(.contentTooLarge, "an action's body is at most \(maximumActionBody) bytes")
        } catch {
            return problem(.badRequest, "the body could not be read: \(error)")
        }
        let farmAction: FarmAction
        do {
            let body = try checkedBody(Data(bytes.readableBytesView), keys: keys)
            farmAction = try action(body)
        } catch let problem as BodyProblem {
            return Self.problem(.badRequest, problem.message)
        } catch {
            return problem(.badRequest, "\(error)")
        }
        do {
            let outcome = try await service.perform(farmAction, by: "http")
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(outcome))))
        } catch let error as FarmActionError {
            return problem(status(of: error), error.message)
        } catch {
            return problem(.internalServerError, "\(error)")
        }
    }

    /// The body as a JSON object whose keys are all in `keys`, none given twice. An action
    /// without fields (cancel) takes an empty body or `{}`.
    static func checkedBody(_ data: Data, keys: Set<String>) throws -> ActionBody {
        if keys.isEmpty && data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) { return ActionBody(data: Data("{}".utf8)) }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw BodyProblem(message: "the body is not JSON; send an object such as \(example(keys))")
        }
        guard let object = parsed as? [String: Any] else {
            throw BodyProblem(message: "the body must be a JSON object such as \(example(keys))")
        }
        let unknown = Set(object.keys).subtracting(keys)
        guard unknown.isEmpty else {
            throw BodyProblem(message: "unknown field(s) \(unknown.sorted().map { "'\($0.prefix(40))'" }.joined(separator: ", ")); expected \(example(keys))")
        }
        if let repeated = DuplicateKeys.first(in: data) { throw BodyProblem(message: "'\(repeated.prefix(40))' is given twice") }
        return ActionBody(data: data)
    }

    static func example(_ keys: Set<String>) -> String {
        switch keys {
        case ["priority"]: #"{"priority": 10}"#
        case ["worker", "blocked"]: #"{"worker": "node7", "blocked": true}"#
        case ["drain"]: #"{"drain": true}"#
        default: "{}"
        }
    }

    static func status(of error: FarmActionError) -> HTTPResponse.Status {
        switch error.code {
        case .invalid: .badRequest
        case .unknownJob, .unknownWorker: .notFound
        case .conflict: .conflict
        case .busy, .stopped: .serviceUnavailable
        case .failed: .internalServerError
        }
    }
}
