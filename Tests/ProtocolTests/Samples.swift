import Foundation
import Protocol

/// One valid message of every kind, with payloads where the kind carries them.
enum Samples {
    static let digestA = SHA256Digest(hex: String(repeating: "ab", count: 32))!
    static let digestB = SHA256Digest(hex: String(repeating: "0f", count: 32))!
    static let line = LossLine(iteration: 10, total: 123.5, content: 10.25, styles: [50, 63.25], tv: 0.5, elapsed: 1.75)
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 1, 2, 3])
    static let settings: JSONValue = .object([
        "iterations": .int(100), "gamma": .double(0.25), "optimizer": .string("lbfgs"),
        "styles": .array([.string("a"), .null]), "seed": .bool(true),
    ])

    static let all: [Message] = [
        .hello(Hello(workerName: "node-1", threads: 4, capabilities: ["adam", "exactTiles"], weightsSHA256: digestA, engineVersion: "0.1.0")),
        .ready(Ready(credit: 2)),
        .progress(TaskProgress(taskID: "t1", attemptID: 7, lines: [line, line])),
        .result(TaskResult(taskID: "t1", attemptID: 7, finalLosses: line, summary: settings, image: png)),
        .failure(TaskFailure(taskID: "t1", attemptID: 7, reason: "style image is not a PNG", retryable: false)),
        .blobRequest(BlobRequest(sha256: digestA)),
        .goodbye(Goodbye(reason: "SIGTERM")),
        .exchange(ShardExchange(taskID: "t1", attemptID: 7, step: 3, phase: .sums, bytes: png)),
        .exchanged(ShardExchangeReply(attemptID: 7, step: 3, phase: .pixels, bytes: png)),
        .welcome(Welcome(workerID: "w3", heartbeatIntervalMilliseconds: 1000, liveness: 3)),
        .refused(Refused(reason: "weights differ")),
        .assign(TaskAssignment(taskID: "t1", attemptID: 7, jobID: "j1", settings: settings, inputs: ["content": digestA, "style.0": digestB])),
        .blob(BlobReply(sha256: digestA, bytes: png)),
        .blob(BlobReply(sha256: digestB, bytes: nil)),
        .cancel(CancelTask(taskID: "t1", attemptID: 7)),
        .submit(SubmitJob(spec: settings, priority: 5, blobs: [digestA, digestB], blobData: [png, Data([1, 2])])),
        .submitted(JobSubmitted(jobID: "j1")),
        .status(StatusQuery(jobID: "j1")),
        .status(StatusQuery()),
        .statusReply(StatusReply(status: settings)),
        .watch(WatchJob(jobID: "j1")),
        .watchUpdate(WatchUpdate(jobID: "j1", update: settings, finished: true)),
        .cancelJob(CancelJob(jobID: "j1")),
        .cancelled(JobCancelled(jobID: "j1")),
        .setPriority(SetJobPriority(jobID: "j1", priority: -3)),
        .blockWorker(BlockWorker(jobID: "j1", worker: "node-1", blocked: true)),
        .drainWorker(DrainWorker(worker: "node-1-0a1b2c3d", drain: false)),
        .actionDone(ActionDone(action: "block", jobID: "j1", worker: "node-1", changed: true, message: "node-1 blocked for job j1")),
        .heartbeat(Heartbeat()),
        .error(ErrorReply(code: "unknownKind", message: "unknown message kind 'x'", inReplyTo: nil)),
        // Issue 11: a worker without weights, and the chunks it fetches them in.
        .hello(Hello(workerName: "bare-node", threads: 2, capabilities: ["render", "tile"], weightsSHA256: nil, engineVersion: "0.11.0",
                     memoryBytes: 8 << 30, host: "node7")),
        .blobRequest(BlobRequest(sha256: digestB, offset: 4 << 20, length: 4 << 20)),
        .welcome(Welcome(workerID: "w4", heartbeatIntervalMilliseconds: 500, liveness: 6, weights: WeightsOffer(sha256: digestB, bytes: 80_098_096))),
        .blob(BlobReply(sha256: digestB, bytes: png, offset: 4 << 20, totalBytes: 80_098_096)),
        // A worker stopping during an exact shard asks its gang for a checkpoint first.
        .exchange(ShardExchange(taskID: "t1", attemptID: 7, step: 4, phase: .pixels, bytes: png, checkpointRequested: true)),
        .exchanged(ShardExchangeReply(attemptID: 7, step: 4, phase: .pixels, bytes: png, checkpointRequested: true)),
        .welcome(Welcome(workerID: "w5", heartbeatIntervalMilliseconds: 500, liveness: 6, checkpointsOnStop: true)),
    ]
}

/// Frames built by hand for malformed-message tests.
func frames(kind: String, header: String, payloads: [Data] = [], version: UInt16 = WireMessage.protocolVersion) -> [Data] {
    [WireMessage.tagFrame(version: version), Data(kind.utf8), Data(header.utf8)] + payloads
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("protocol-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
