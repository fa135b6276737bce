public import Engine
public import Foundation
public import Protocol
public import Farm

/// A command-line client's connection to the coordinator: one DEALER socket, one request at a
/// time, each answered within a timeout.
public final class FarmClient {
    let socket: ZMQSocket
    let timeout: Duration

    public init(endpoint: String, context: ZMQContext, security: ZMQSecurity = .none, timeout: Duration = .seconds(30)) throws {
        socket = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions(limits: .default) { $0.security = security })
        try socket.connect(endpoint)
        self.timeout = timeout
        self.endpoint = endpoint
    }

    public let endpoint: String

    deinit { socket.close() }

    /// The coordinator did not answer within the timeout (not running, restarting, or
    /// unreachable). A client that rides through restarts catches this and asks again, on a new
    /// connection.
    public struct Unreachable: Error, Sendable, CustomStringConvertible {
        public var endpoint: String
        public var timeout: Duration
        public var description: String { "no answer from the coordinator at \(endpoint) within \(timeout); is it running?" }
    }

    /// The coordinator answered with an error; `code` is a `FarmErrorCode` or a protocol code.
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public var code: String
        public var message: String
        public var description: String { "the coordinator refused the request: \(message)" }
    }

    public func request(_ message: Message) throws -> Message {
        try socket.send(try message.wireMessage())
        guard try socket.poll(.readable, timeout: timeout).contains(.readable),
              let reply = try socket.receiveMessage(wait: false) else {
            throw Unreachable(endpoint: endpoint, timeout: timeout)
        }
        let message = try reply.get()
        if case .error(let error) = message {
            throw Refused(code: error.code, message: error.message)
        }
        return message
    }

    /// Submits a sweep: the images named in the spec are read, sent as blobs, and replaced by
    /// `blob:<sha256>` references. Returns the job id.
    public func submit(_ spec: SweepSpec, maxPixels: Int = ImageLimits.defaultMaxPixels) throws -> String {
        var spec = spec
        var blobs = OutgoingBlobs(maxPixels: maxPixels)
        if spec.styleNames == nil { spec.styleNames = spec.base.stylePaths.map { URL(fileURLWithPath: $0).lastPathComponent } }
        spec.base = try blobs.referencing(spec.base)
        _ = try SweepPlanner.plan(spec)   // refuse a bad sweep before sending megabytes
        return try submit(try JSONValue(encoding: spec), kind: "sweep", priority: spec.priority, blobs: blobs)
    }

    /// Submits a tiled render, its images sent as blobs like a sweep's. Returns the job id.
    public func submit(_ spec: TiledSpec, maxPixels: Int = ImageLimits.defaultMaxPixels) throws -> String {
        var spec = spec
        var blobs = OutgoingBlobs(maxPixels: maxPixels)
        if spec.styleNames == nil { spec.styleNames = spec.base.stylePaths.map { URL(fileURLWithPath: $0).lastPathComponent } }
        let content = try ImageFile.read(path: spec.base.contentPath, maxPixels: maxPixels)
        spec.base = try blobs.referencing(spec.base)
        _ = try TiledPlanner.plan(spec, contentWidth: content.width, contentHeight: content.height)   // refuse it here, not there
        return try submit(try JSONValue(encoding: spec), kind: "tiled", priority: spec.priority, blobs: blobs)
    }

    private func submit(_ spec: JSONValue, kind: String, priority: Int, blobs: OutgoingBlobs) throws -> String {
        let reply = try request(.submit(SubmitJob(spec: spec, kind: kind, priority: priority,
                                                  blobs: blobs.digests, blobData: blobs.data)))
        guard case .submitted(let submitted) = reply else {
            throw EngineError(.io, "unexpected answer to a submission: \(reply.kind)")
        }
        return submitted.jobID
    }

    /// The input files of a submission, each checked to be a readable image and sent once.
    struct OutgoingBlobs {
        let maxPixels: Int
        var digests: [SHA256Digest] = []
        var data: [Data] = []

        init(maxPixels: Int) { self.maxPixels = maxPixels }

        mutating func reference(_ path: String) throws -> String {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            _ = try ImageFile.decode(bytes, name: path, maxPixels: maxPixels)   // refuse a bad image here, not on a worker
            let sha = BlobStore.hash(bytes)
            if !digests.contains(where: { $0.hex == sha }), let digest = SHA256Digest(hex: sha) {
                digests.append(digest)
                data.append(Data(bytes))
            }
            guard let blob = BlobReference(sha256: sha) else { throw EngineError(.failed, "'\(sha)' is not a sha256") }
            return blob.description
        }

        /// The request with every image path replaced by its blob reference.
        mutating func referencing(_ request: RenderRequest) throws -> RenderRequest {
            var r = request
            r.contentPath = try reference(r.contentPath)
            r.stylePaths = try r.stylePaths.map { try reference($0) }
            r.maskPaths = try r.maskPaths?.map { $0 == RenderRequest.noMask ? $0 : try reference($0) }
            if let initialization = r.initialization, !["content", "noise", "style"].contains(initialization) {
                r.initialization = try reference(initialization)
            }
            return r
        }
    }

    public func status(jobID: String? = nil, limit: Int? = nil) throws -> FarmStatusDocument {
        guard case .statusReply(let reply) = try request(.status(StatusQuery(jobID: jobID, limit: limit))) else {
            throw EngineError(.io, "unexpected answer to a status query")
        }
        do {
            return try JSONDecoder().decode(FarmStatusDocument.self, from: try reply.status.jsonData())
        } catch {
            throw EngineError(.io, "the coordinator's status document is not one this client reads: \(error)")
        }
    }

    public func cancel(jobID: String) throws {
        _ = try perform(.cancel(job: jobID))
    }
}
