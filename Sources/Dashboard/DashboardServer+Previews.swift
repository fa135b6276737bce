import Coordinator
import Dispatch
import Foundation
import Hummingbird

/// The pictures behind the dashboard's thumbnails: each running task's latest preview as its
/// worker sent it (memory only), and finished tasks' images downscaled.
///
/// - `GET /api/v1/jobs/<id>/previews`: JSON, one entry per running task with a preview
///   (`key`, `attemptID`, `iteration`, `iterations`, `mimeType`, `width`, `height`, `bytes`,
///   `updatedAt`, `url`).
/// - `GET /api/v1/jobs/<id>/previews/<key>`: that preview's image (`image/jpeg` or `image/png`).
/// - `GET /api/v1/jobs/<id>/results/<key>/preview?size=N`: a finished task's image as a JPEG
///   fitting N pixels (default 512).
extension DashboardServer {
    struct PreviewEntry: Codable, Equatable {
        var key: String
        var attemptID: Int64
        var iteration: Int
        var iterations: Int?
        var mimeType: String
        var width: Int
        var height: Int
        var bytes: Int
        var updatedAt: Date
        var url: String
    }

    static func addPreviewRoutes(to router: Router<BasicRequestContext>, service: CoordinatorService, access: HTTPAccess) {
        router.get("api/v1/jobs/:id/previews") { request, context -> Response in
            guard access.mayRead(request) else { return unauthorized() }
            let id = try context.parameters.require("id")
            let entries = service.livePreviews(job: id).map {
                PreviewEntry(key: $0.key, attemptID: $0.attemptID, iteration: $0.iteration, iterations: $0.iterations, mimeType: $0.mimeType,
                             width: $0.width, height: $0.height, bytes: $0.bytes.count, updatedAt: $0.updatedAt,
                             url: "/api/v1/jobs/\(id)/previews/\($0.key)")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            encoder.dateEncodingStrategy = .iso8601
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(entries))))
        }
        router.get("api/v1/jobs/:id/previews/:key") { request, context -> Response in
            guard access.mayRead(request) else { return unauthorized() }
            let (id, key) = (try context.parameters.require("id"), try context.parameters.require("key"))
            guard let preview = service.livePreview(job: id, key: key) else {
                return problem(.notFound, "no live preview of \(key.prefix(64)) in job \(id.prefix(64)) (not running, or none sent yet)")
            }
            return image(preview.bytes, mimeType: preview.mimeType, cache: "no-store")
        }
        router.get("api/v1/jobs/:id/results/:key/preview") { request, context -> Response in
            guard access.mayRead(request) else { return unauthorized() }
            let (id, key) = (try context.parameters.require("id"), try context.parameters.require("key"))
            let side = request.uri.queryParameters.get("size", as: Int.self) ?? 512
            guard ResultPreview.sides.contains(side) else {
                return problem(.badRequest, "size must be \(ResultPreview.sides.lowerBound)…\(ResultPreview.sides.upperBound)")
            }
            // Decoding a large result takes a while: off the server's event loops.
            let made = try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try service.resultPreview(job: id, key: key, maxSide: side) })
                }
            }
            guard let made else { return problem(.notFound, "no finished image of \(key.prefix(64)) in job \(id.prefix(64))") }
            return image(made.bytes, mimeType: made.mimeType, cache: "max-age=60")
        }
    }

    static func image(_ bytes: Data, mimeType: String, cache: String) -> Response {
        Response(status: .ok, headers: [.contentType: mimeType, .cacheControl: cache], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
