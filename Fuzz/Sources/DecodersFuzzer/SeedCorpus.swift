import Foundation
import Protocol

/// The seed corpus: valid messages of every kind, each through every reader, written by
/// `--write-corpus DIR` so that no corpus file is committed.
enum SeedCorpus {
    static let digestA = SHA256Digest(hex: String(repeating: "ab", count: 32))
    static let digestB = SHA256Digest(hex: String(repeating: "0f", count: 32))
    static let line = LossLine(iteration: 10, total: 123.5, content: 10.25, styles: [50, 63.25], tv: 0.5, elapsed: 1.75)
    /// A diverging render reports non-finite losses; they travel as strings.
    static let divergedLine = LossLine(iteration: 11, total: .nan, content: .infinity, styles: [-.infinity], tv: 0, elapsed: 2)
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 1, 2, 3])
    static let settings: JSONValue = .object([
        "iterations": .int(100), "gamma": .double(0.25), "optimizer": .string("lbfgs"),
        "styles": .array([.string("a"), .null]), "seed": .bool(true),
        "sizes": .object(["scales": .array([.int(128), .int(256)]), "max": .int(.max), "min": .double(-1e-300)]),
    ])
    /// A ROUTER identity as libzmq generates it (a zero byte, then a 32-bit counter).
    static let identity = Data([0x00, 0x80, 0x00, 0x00, 0x29])

    /// One message of every kind, and a second of kinds whose optional fields or payload count vary.
    static func messages() -> [Message] {
        guard let digestA, let digestB else { return [] }
        return [
            .hello(Hello(workerName: "node-1", threads: 4, capabilities: ["adam", "exactTiles"], weightsSHA256: digestA, engineVersion: "0.1.0", zmqVersion: "4.3.4")),
            .ready(Ready(credit: 2)),
            .progress(TaskProgress(taskID: "t1", attemptID: 7, lines: [line, line])),
            .progress(TaskProgress(taskID: "t1", attemptID: 7, lines: [divergedLine])),
            .result(TaskResult(taskID: "t1", attemptID: 7, finalLosses: line, summary: settings, image: png)),
            .failure(TaskFailure(taskID: "t1", attemptID: 7, reason: "style image is not a PNG", retryable: false)),
            .blobRequest(BlobRequest(sha256: digestA)),
            .goodbye(Goodbye(reason: "SIGTERM")),
            .exchange(ShardExchange(taskID: "t1", attemptID: 7, step: 3, phase: .sums, bytes: png)),
            .exchanged(ShardExchangeReply(attemptID: 7, step: 3, phase: .pixels, bytes: Data())),
            .exchange(ShardExchange(taskID: "t1", attemptID: 7, step: 4, phase: .pixels, bytes: png, checkpointRequested: true)),
            .exchanged(ShardExchangeReply(attemptID: 7, step: 4, phase: .pixels, bytes: Data(), checkpointRequested: true)),
            .welcome(Welcome(workerID: "w3", heartbeatIntervalMilliseconds: 1000, liveness: 3)),
            .refused(Refused(reason: "weights differ")),
            .assign(TaskAssignment(taskID: "t1", attemptID: 7, jobID: "j1", settings: settings, inputs: ["content": digestA, "style.0": digestB])),
            .blob(BlobReply(sha256: digestA, bytes: png)),
            .blob(BlobReply(sha256: digestB, bytes: nil)),
            .cancel(CancelTask(taskID: "t1", attemptID: 7)),
            .submit(SubmitJob(spec: settings, priority: 5, blobs: [digestA, digestB], blobData: [png, Data([1, 2])])),
            .submit(SubmitJob(spec: .object(["tile": .int(512)]), kind: "tiled", priority: -1, blobs: [], blobData: [])),
            .submitted(JobSubmitted(jobID: "j1")),
            .status(StatusQuery(jobID: "j1")),
            .status(StatusQuery()),
            .statusReply(StatusReply(status: settings)),
            .watch(WatchJob(jobID: "j1")),
            .watchUpdate(WatchUpdate(jobID: "j1", update: .array([.string("é ✓ \u{1F3A8}"), .double(1.5e-7)]), finished: true)),
            .cancelJob(CancelJob(jobID: "j1")),
            .cancelled(JobCancelled(jobID: "j1")),
            .heartbeat(Heartbeat()),
            .error(ErrorReply(code: "unknownKind", message: "unknown message kind 'x'", inReplyTo: "x")),
        ]
    }

    /// Each message through each reader and with the standard limits; and once with the small
    /// limits, so that the fuzzer starts next to every "too large" branch.
    static func inputs() throws(ProtocolError) -> [(name: String, input: FuzzInput)] {
        var result: [(name: String, input: FuzzInput)] = []
        var counts: [MessageKind: Int] = [:]
        for message in messages() {
            let frames = try message.frames()
            let number = counts[message.kind, default: 0]
            counts[message.kind] = number + 1
            let stem = "\(message.kind.rawValue)-\(number)"
            result.append(("\(stem)-direct", FuzzInput(frames: frames)))
            result.append(("\(stem)-dealer", FuzzInput(reader: .dealer, frames: frames)))
            result.append(("\(stem)-router", FuzzInput(reader: .router, frames: [identity] + frames)))
            result.append(("\(stem)-small", FuzzInput(limitsChoice: .small, frames: frames)))
            // Just enough for the header and the frame count (in the steps the option bytes can say).
            let tight = WireLimits(maxHeaderBytes: min(1020, (frames[2].count + 3) / 4 * 4), maxFrameBytes: 64, maxMessageBytes: 4080, maxFrames: frames.count)
            result.append(("\(stem)-custom", FuzzInput(limitsChoice: .custom, customLimits: tight, frames: frames)))
        }
        return result
    }

    /// Writes the seeds into `directory`, after checking that each decodes to the message it was made from.
    static func write(to directory: URL) throws -> Int {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written = 0
        for (name, input) in try inputs() {
            guard let bytes = input.encoded() else {
                throw HarnessError("seed \(name) contains the frame separator; change the seed")
            }
            let parsed = FuzzInput(bytes)
            guard parsed.frames == input.frames, parsed.reader == input.reader, parsed.limits == input.limits else {
                throw HarnessError("seed \(name) does not parse back to its frames")
            }
            if input.limitsChoice == .standard {
                do {
                    _ = try Message(decoding: parsed.multipart, limits: parsed.limits)
                } catch {
                    throw HarnessError("seed \(name) does not decode: \(error)")
                }
            }
            try bytes.write(to: directory.appendingPathComponent("seed-\(name)"))
            written += 1
        }
        return written
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
