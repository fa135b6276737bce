public import Engine
public import Foundation
public import Protocol

/// A client's submission: the spec travels as JSON with `blob:<sha256>` image references, the
/// images as binary frames. Every blob is checked against its digest before the job is planned
/// and recorded.
public enum JobSubmission {
    public static func accept(_ submit: SubmitJob, records: FarmRecords, blobs: BlobStore) throws -> String {
        for (digest, bytes) in zip(submit.blobs, submit.blobData) {
            try blobs.store([UInt8](bytes), expected: digest.hex)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        switch submit.kind ?? "sweep" {
        case "sweep":
            let spec: SweepSpec
            do {
                spec = try submit.spec.decode(SweepSpec.self)
            } catch {
                throw EngineError(.invalidArgument, "the job spec is not a sweep: \(error)")
            }
            try requireBlobs(of: spec.base, in: blobs)
            let tasks = try SweepPlanner.plan(spec)
            return try records.createJob(kind: "sweep", spec: try encoder.encode(spec), priority: submit.priority, tasks: tasks)
        case "tiled":
            let spec: TiledSpec
            do {
                spec = try submit.spec.decode(TiledSpec.self)
            } catch {
                throw EngineError(.invalidArgument, "the job spec is not a tiled render: \(error)")
            }
            try requireBlobs(of: spec.base, in: blobs)
            let content = try contentSize(spec.base.contentPath, blobs: blobs, maxPixels: spec.base.maxPixels ?? ImageLimits.defaultMaxPixels)
            let tasks = try TiledPlanner.plan(spec, contentWidth: content.width, contentHeight: content.height)
            return try records.createJob(kind: "tiled", spec: try encoder.encode(spec), priority: submit.priority, tasks: tasks)
        case let other:
            throw EngineError(.invalidArgument, "unknown job kind '\(other)'; this coordinator plans sweep and tiled jobs")
        }
    }

    static func requireBlobs(of request: RenderRequest, in blobs: BlobStore) throws {
        for path in [request.contentPath] + request.stylePaths + (request.maskPaths ?? []) where path.hasPrefix("blob:") {
            guard blobs.path(of: String(path.dropFirst(5))) != nil else {
                throw EngineError(.invalidArgument, "the job refers to image \(path), which was not sent with it")
            }
        }
    }

    /// The content image's size, which a tiled job's output size and grid follow.
    static func contentSize(_ path: String, blobs: BlobStore, maxPixels: Int) throws -> (width: Int, height: Int) {
        // Only what the client sent: a submission must not make the coordinator read its own files.
        guard path.hasPrefix("blob:"), let file = blobs.path(of: String(path.dropFirst(5))) else { throw EngineError(.invalidArgument, "the content image \(path) was not sent with the job") }
        let image = try ImageFile.read(path: file, maxPixels: maxPixels)
        return (image.width, image.height)
    }
}
