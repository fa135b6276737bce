import Foundation
import Protocol
import Testing

/// The stop checkpoint's keys (`ShardExchange.checkpointRequested`, its answer's, and
/// `Welcome.checkpointsOnStop`) must leave every message that does not use them exactly as an
/// older peer's strict decoder expects it: that decoder refuses keys it does not know.
@Suite("Checkpoint on stop")
struct CheckpointRequestTests {
    /// The header's keys as sent.
    func keys(_ message: Message) throws -> Set<String> {
        let header = try message.frames()[2]
        let object = try JSONSerialization.jsonObject(with: header) as? [String: Any]
        return Set(object?.keys.map { $0 } ?? [])
    }

    @Test("a round without a request carries no key an older coordinator would refuse")
    func noRequestNoKey() throws {
        let exchange = Message.exchange(ShardExchange(taskID: "t", attemptID: 1, step: 2, phase: .sums, bytes: Data([1])))
        #expect(try keys(exchange) == ["taskID", "attemptID", "step", "phase"])
        let reply = Message.exchanged(ShardExchangeReply(attemptID: 1, step: 2, phase: .sums, bytes: Data([1])))
        #expect(try keys(reply) == ["attemptID", "step", "phase"])
        let welcome = Message.welcome(Welcome(workerID: "w", heartbeatIntervalMilliseconds: 500, liveness: 6))
        #expect(try keys(welcome) == ["workerID", "heartbeatIntervalMilliseconds", "liveness"])
    }

    @Test("an older peer's round, without the key, decodes as no request")
    func olderPeersDecode() throws {
        let exchange = frames(kind: "exchange", header: #"{"taskID":"t","attemptID":1,"step":2,"phase":"pixels"}"#, payloads: [Data()])
        guard case .exchange(let decoded) = try Message(decoding: Multipart(frames: exchange)) else {
            Issue.record("not an exchange")
            return
        }
        #expect(decoded.checkpointRequested == nil)
        let reply = frames(kind: "exchanged", header: #"{"attemptID":1,"step":2,"phase":"pixels"}"#, payloads: [Data()])
        guard case .exchanged(let answer) = try Message(decoding: Multipart(frames: reply)) else {
            Issue.record("not an answer")
            return
        }
        #expect(answer.checkpointRequested == nil)
    }

    @Test("a request survives the wire, and false is read as false", arguments: [true, false])
    func requestTravels(value: Bool) throws {
        let header = #"{"taskID":"t","attemptID":1,"step":2,"phase":"pixels","checkpointRequested":\#(value)}"#
        guard case .exchange(let decoded) = try Message(decoding: Multipart(frames: frames(kind: "exchange", header: header,
                                                                                          payloads: [Data()]))) else {
            Issue.record("not an exchange")
            return
        }
        #expect(decoded.checkpointRequested == value)
    }

    @Test("a request that is not a boolean is malformed")
    func notABoolean() {
        let header = #"{"attemptID":1,"step":2,"phase":"pixels","checkpointRequested":"yes"}"#
        #expect(throws: ProtocolError.self) { try Message(decoding: Multipart(frames: frames(kind: "exchanged", header: header, payloads: [Data()]))) }
    }
}
