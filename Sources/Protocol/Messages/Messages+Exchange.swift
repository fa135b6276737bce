public import Foundation

// An exact tiled job's shards stay in step through the coordinator: each evaluation every
// shard sends its partial sums (`exchange`, phase "sums") and gets back the sum over all shards
// (`exchanged`); with the gradient-exchange scheme it then sends the gradient its window puts
// on other shards' rows ("gradients") and gets back theirs; after its optimiser step it sends
// the edge pixels its neighbours' windows read ("pixels") and gets back theirs. L-BFGS adds
// one "dots" round per iteration (partial dot products, summed), and every K iterations each
// shard sends its state ("checkpoint"), stored by the coordinator. The coordinator answers a
// round once every shard of the job has sent it.
//
// A worker asked to stop (SIGTERM) while it runs a shard sets `checkpointRequested` on its next
// round; the coordinator sets it on that round's answer to every shard, and each saves a
// checkpoint at the end of that iteration, so that the gang resumes from there rather than
// from the last periodic checkpoint. Both sides set the key only when the other announced it
// understands it (`ShardExchange.checkpointOnStopCapability`, `Welcome.checkpointsOnStop`):
// a strict decoder of an older peer would refuse it.

/// The phases of a step's exchange.
public enum ExchangePhase: String, Sendable, Codable, CaseIterable {
    /// Partial Gram, content and TV sums; answered with their sum over shards.
    case sums
    /// Edge pixels (strips); answered with every other shard's strips.
    case pixels
    /// Gradient on other shards' rows (strips); answered with every other shard's strips.
    case gradients
    /// Partial dot products and maxima (`ShardReductions`); answered with their sum and max.
    case dots
    /// A shard's state (`ExactShardCheckpoint`); stored, answered with no bytes.
    case checkpoint
}

/// `exchange`: a shard's contribution to one round; the bytes travel as the one binary frame.
public struct ShardExchange: WireBody {
    public static let kind = MessageKind.exchange
    public var taskID: String
    public var attemptID: Int64
    public var step: Int
    public var phase: ExchangePhase
    public var bytes: Data
    /// True: this shard's worker is stopping and asks the gang for a checkpoint at the end of
    /// the iteration. Nil otherwise (never sent as false, so an older coordinator sees no key).
    public var checkpointRequested: Bool?

    /// What a worker adds to `hello`'s capabilities when it understands `checkpointRequested`
    /// in answers (and sends it when stopping); not a kind of work order.
    public static let checkpointOnStopCapability = "exact-checkpoint-on-stop"

    private enum CodingKeys: String, CodingKey { case taskID, attemptID, step, phase, checkpointRequested }

    public init(taskID: String, attemptID: Int64, step: Int, phase: ExchangePhase, bytes: Data, checkpointRequested: Bool? = nil) {
        self.taskID = taskID
        self.attemptID = attemptID
        self.step = step
        self.phase = phase
        self.bytes = bytes
        self.checkpointRequested = checkpointRequested
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        taskID = try container.decode(String.self, forKey: .taskID)
        attemptID = try container.decode(Int64.self, forKey: .attemptID)
        step = try container.decode(Int.self, forKey: .step)
        phase = try container.decode(ExchangePhase.self, forKey: .phase)
        checkpointRequested = try container.decodeIfPresent(Bool.self, forKey: .checkpointRequested)
        bytes = Data()
    }

    public var payloads: [Data] { [bytes] }

    public mutating func attach(payloads: [Data]) throws(ProtocolError) {
        guard payloads.count == 1 else {
            throw ProtocolError(.wrongPayloadCount, "'exchange' carries exactly one binary frame; got \(payloads.count)", kind: Self.kind.rawValue)
        }
        bytes = payloads[0]
    }

    public func validate() throws(ProtocolError) {
        try require(!taskID.isEmpty, "exchange needs a task id")
        try require(step >= 0, "exchange step must not be negative; got \(step)")
    }
}

/// `exchanged`: the coordinator's answer to a round, for one shard.
public struct ShardExchangeReply: WireBody {
    public static let kind = MessageKind.exchanged
    public var attemptID: Int64
    public var step: Int
    public var phase: ExchangePhase
    public var bytes: Data
    /// True: a shard of the gang asked for a checkpoint in this round (its worker is stopping);
    /// every shard saves one at the end of the iteration. Sent to every shard of the round or
    /// to none, and only to workers that announced ``ShardExchange/checkpointOnStopCapability``.
    public var checkpointRequested: Bool?

    private enum CodingKeys: String, CodingKey { case attemptID, step, phase, checkpointRequested }

    public init(attemptID: Int64, step: Int, phase: ExchangePhase, bytes: Data, checkpointRequested: Bool? = nil) {
        self.attemptID = attemptID
        self.step = step
        self.phase = phase
        self.bytes = bytes
        self.checkpointRequested = checkpointRequested
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        attemptID = try container.decode(Int64.self, forKey: .attemptID)
        step = try container.decode(Int.self, forKey: .step)
        phase = try container.decode(ExchangePhase.self, forKey: .phase)
        checkpointRequested = try container.decodeIfPresent(Bool.self, forKey: .checkpointRequested)
        bytes = Data()
    }

    public var payloads: [Data] { [bytes] }

    public mutating func attach(payloads: [Data]) throws(ProtocolError) {
        guard payloads.count == 1 else {
            throw ProtocolError(.wrongPayloadCount, "'exchanged' carries exactly one binary frame; got \(payloads.count)", kind: Self.kind.rawValue)
        }
        bytes = payloads[0]
    }
}
