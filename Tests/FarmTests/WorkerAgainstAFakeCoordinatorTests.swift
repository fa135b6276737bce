import Foundation
import Testing
import TestSupport
import Engine
import Protocol

/// A real worker process against a coordinator played by the test on a real ROUTER socket:
/// what the worker does when the coordinator asks for the impossible.
@Suite(.serialized)
struct WorkerAgainstAFakeCoordinatorTests {
    final class FakeCoordinator {
        let context: ZMQContext
        let socket: ZMQSocket
        let endpoint: String
        var worker = Data()

        init() throws {
            context = try ZMQContext()
            socket = try ZMQSocket(context, type: .router)
            endpoint = try socket.bind("tcp://127.0.0.1:*")
        }

        deinit { socket.close() }

        func receive(timeout: Duration = .seconds(30), until match: (Message) -> Bool) throws -> Message? {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                guard try socket.poll(.readable, timeout: deadline - ContinuousClock.now).contains(.readable),
                      let routed = try socket.receiveRouted(wait: false) else { continue }
                worker = routed.identity
                let message = try routed.decode()
                if match(message) { return message }
            }
            return nil
        }

        func send(_ message: Message) throws { try socket.send(try message.wireMessage(), to: worker) }
    }

    @Test func aBlobTheCoordinatorLacksFailsTheAttemptAndASecondTaskIsHandedBack() throws {
        let farm = try FarmHarness()
        let fake = try FakeCoordinator()
        farm.endpoint = fake.endpoint
        try farm.startWorkers(1)
        guard case .hello? = try fake.receive(until: { if case .hello = $0 { true } else { false } }) else {
            throw TestFailure("no hello")
        }
        try fake.send(.welcome(Welcome(workerID: "w0-test", heartbeatIntervalMilliseconds: 200, liveness: 50)))
        guard case .ready? = try fake.receive(until: { if case .ready = $0 { true } else { false } }) else { throw TestFailure("no ready") }

        let missing = String(repeating: "cd", count: 32)
        var request = RenderRequest(contentPath: "blob:" + missing, stylePaths: ["blob:" + missing])
        request.size = 32
        request.iterations = 1
        let settings = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(request))
        try fake.send(.assign(TaskAssignment(taskID: "1", attemptID: 7, jobID: "j", settings: settings, inputs: [:])))
        // While it waits for the blob, a second assignment: handed back, not failed.
        try fake.send(.assign(TaskAssignment(taskID: "2", attemptID: 8, jobID: "j", settings: settings, inputs: [:])))
        guard case .blobRequest(let wanted)? = try fake.receive(until: { if case .blobRequest = $0 { true } else { false } }) else {
            throw TestFailure("no blob request")
        }
        #expect(wanted.sha256.hex == missing)
        guard case .failure(let busy)? = try fake.receive(until: { if case .failure = $0 { true } else { false } }) else {
            throw TestFailure("no answer to the second assignment")
        }
        #expect(busy.attemptID == 8 && busy.handBack == true, "\(busy)")
        try fake.send(.blob(BlobReply(sha256: wanted.sha256, bytes: nil)))
        guard case .failure(let failure)? = try fake.receive(until: { if case .failure = $0 { true } else { false } }) else {
            throw TestFailure("the worker kept the lease")
        }
        #expect(failure.attemptID == 7 && !failure.retryable && failure.reason.contains("could not be fetched"), "\(failure)")
        guard case .ready(let ready)? = try fake.receive(until: { if case .ready = $0 { true } else { false } }) else {
            throw TestFailure("no ready after the failure")
        }
        #expect(ready.credit == 1 && ready.holding == [] && ready.lastAssignment == 8, "\(ready)")
    }
}
