import Coordinator
import Farm
import Foundation
import Hummingbird
import Protocol
import Synchronization

/// The pages: `/` (the farm), `/jobs/<id>` (one job), their event streams (`/events`,
/// `/events?job=<id>`), and a job folder's files (`/jobs/<id>/files/<path>`); thumbnails come
/// from the preview routes (`DashboardServer+Previews`). Reading follows `HTTPAccess`; the pages post actions to `/api/v1/…`.
struct DashboardPages: Sendable {
    let service: CoordinatorService
    let access: HTTPAccess
    let plans = PlanCache()
    let events: LiveEvents
    var files: JobFiles { JobFiles(jobsDirectory: service.configuration.dataDirectory + "/jobs") }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ -> Response in
            guard access.mayRead(request) else { return tokenPage() }
            return html(FarmPage.document(try farmModel()))
        }
        router.get("jobs/:id") { request, context -> Response in
            guard access.mayRead(request) else { return tokenPage() }
            let id = try context.parameters.require("id")
            guard let model = try JobPageModel.load(jobID: id, service: service, plans: plans) else {
                return html(notFound("no job \(id.prefix(64))"), status: .notFound)
            }
            return html(JobPage.document(model, files: files.list(jobID: id), workers: workerNames()))
        }
        router.get("events") { request, _ -> Response in
            guard access.mayRead(request) else { return DashboardServer.unauthorized() }
            let stream: Response?
            if let id = request.uri.queryParameters.get("job") {
                let id = String(id.prefix(128))
                let seen = Mutex<String?>(nil)
                stream = events.stream { [self] in
                    // The job's status and its previews' iterations say whether anything on the
                    // page can have changed: only then is the whole page read and rendered.
                    guard let status = try service.statusDocument(StatusQuery(jobID: id)).jobs.first else { return [] }
                    let workers = workerNames()
                    let fingerprint = "\(status)|\(service.livePreviews(job: id).map { "\($0.key)@\($0.iteration)" })|\(workers)"
                    guard seen.withLock({ last in defer { last = fingerprint }; return last != fingerprint }) else { return nil }
                    guard let model = try JobPageModel.load(jobID: id, status: status, service: service, plans: plans) else { return [] }
                    return JobPage.render(model, files: files.list(jobID: id), workers: workers).fragments
                }
            } else {
                stream = events.stream { [self] in FarmPage.fragments(try farmModel()) }
            }
            return stream ?? DashboardServer.problem(.serviceUnavailable, "too many open pages; close one and reload")
        }
        router.get("jobs/:id/files/**") { request, context -> Response in
            guard access.mayRead(request) else { return DashboardServer.unauthorized() }
            let id = try context.parameters.require("id")
            guard let path = files.file(jobID: id, segments: context.parameters.getCatchAll()) else {
                return DashboardServer.problem(.notFound, "no such file in job \(id.prefix(64))")
            }
            return try await file(path, request: request, context: context)
        }
    }

    func farmModel() throws -> FarmPage.Model {
        let status = try service.statusDocument(StatusQuery(limit: 100))
        var eta: [String: Double] = [:]
        for job in status.jobs where job.state.isActive {
            eta[job.id] = try JobPageModel.eta(jobID: job.id, status: job, records: service.records)
        }
        return FarmPage.Model(status: status, eta: eta)
    }

    func workerNames() -> [String] { Array(Set(service.connectedWorkers().map { $0.name ?? $0.id })).sorted() }

    func file(_ path: String, request: Request, context: BasicRequestContext) async throws -> Response {
        var headers: HTTPFields = [.contentType: JobFiles.contentType(of: path), .cacheControl: "no-cache"]
        // Job files are the farm's own outputs, but a page must never run what a file holds.
        headers[.contentSecurityPolicy] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        headers[.xContentTypeOptions] = "nosniff"
        let body = try await FileIO().loadFile(path: path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func notFound(_ message: String) -> String {
        "<!doctype html><meta charset=\"utf-8\"><title>not found</title><p>\(HTML.escape(message)). <a href=\"/\">The farm</a></p>"
    }

    /// Off loopback, reading needs the token: a page that asks for it once and keeps it in a cookie.
    func tokenPage() -> Response {
        html("""
            <!doctype html><meta charset="utf-8"><title>StyleFarm: token</title>
            <form id="f"><p>This coordinator needs its HTTP token to be read.</p><input id="t" type="password" autofocus> <button>open</button></form>
            <script>document.getElementById('f').addEventListener('submit',e=>{e.preventDefault();const t=document.getElementById('t').value.trim();
            localStorage.setItem('stylefarmToken',t);document.cookie='\(HTTPAccess.cookieName)='+encodeURIComponent(t)+'; path=/; SameSite=Strict';location.reload();});</script>
            """, status: .unauthorized)
    }
}
