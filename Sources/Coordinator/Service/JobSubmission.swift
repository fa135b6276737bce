public import Engine
public import Foundation
public import Protocol

/// A client's sweep submission: the spec travels as JSON with `blob:<sha256>` image
/// references, the images as binary frames. Every blob is checked against its digest before
/// the job is planned and recorded.
public enum JobSubmission {
    public static func accept(_ submit: SubmitJob, records: FarmRecords, blobs: BlobStore) throws -> String {
        for (digest, bytes) in zip(submit.blobs, submit.blobData) {
            try blobs.store([UInt8](bytes), expected: digest.hex)
        }
        let spec: SweepSpec
        do {
            spec = try submit.spec.decode(SweepSpec.self)
        } catch {
            throw EngineError(.invalidArgument, "the job spec is not a sweep: \(error)")
        }
        for path in [spec.base.contentPath] + spec.base.stylePaths + (spec.base.maskPaths ?? []) where path.hasPrefix("blob:") {
            guard blobs.path(of: String(path.dropFirst(5))) != nil else {
                throw EngineError(.invalidArgument, "the job refers to image \(path), which was not sent with it")
            }
        }
        let tasks = try SweepPlanner.plan(spec)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try records.createJob(kind: "sweep", spec: try encoder.encode(spec), priority: submit.priority, tasks: tasks)
    }
}
