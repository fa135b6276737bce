import Foundation
import Protocol
import Testing

@Suite("Socket I/O threads")
struct SocketLoopTests {
    /// The next message event, skipping nothing: anything else fails the test.
    func nextMessage(_ iterator: inout AsyncStream<ZMQSocketLoop.Event>.Iterator) async throws -> (Data?, Message) {
        guard case .message(let identity, let multipart) = await iterator.next() else {
            Issue.record("expected a message event")
            throw CancellationError()
        }
        return (identity, try Message(decoding: multipart))
    }

    @Test("a ROUTER loop and a DEALER loop exchange messages from async code")
    func exchange() async throws {
        let context = try ZMQContext()
        let router = try ZMQSocketLoop(context: context, name: "test-router") { context throws(ZMQError) in
            let socket = try ZMQSocket(context, type: .router, options: ZMQSocketOptions { $0.routerMandatory = true })
            try socket.bind("tcp://127.0.0.1:*")
            return socket
        }
        defer { router.stop() }
        let endpoint = router.endpoint
        let dealer = try ZMQSocketLoop(context: context, name: "test-dealer") { context throws(ZMQError) in
            let socket = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions { $0.routingID = Data("d1".utf8) })
            try socket.connect(endpoint)
            return socket
        }
        defer { dealer.stop() }

        var routerEvents = router.events.makeAsyncIterator()
        var dealerEvents = dealer.events.makeAsyncIterator()

        let hello = Samples.all[0]
        dealer.send(try hello.wireMessage())
        let (identity, received) = try await nextMessage(&routerEvents)
        #expect(identity == Data("d1".utf8))
        #expect(received == hello)

        let welcome = Message.welcome(Welcome(workerID: "w1", heartbeatIntervalMilliseconds: 500, liveness: 3))
        router.send(try welcome.wireMessage(), to: Data("d1".utf8))
        let (noIdentity, reply) = try await nextMessage(&dealerEvents)
        #expect(noIdentity == nil)
        #expect(reply == welcome)

        router.send(try Message.heartbeat(Heartbeat()).wireMessage(), to: Data("ghost".utf8))
        guard case .sendFailed(let ghost, let error) = await routerEvents.next() else {
            Issue.record("expected sendFailed")
            return
        }
        #expect(ghost == Data("ghost".utf8))
        #expect(error.code == .peerUnreachable)

        dealer.stop()
        guard case .stopped(nil) = await dealerEvents.next() else {
            Issue.record("expected a clean stop")
            return
        }
        #expect(await dealerEvents.next() == nil)
    }

    @Test("a loop whose socket cannot be set up fails to start with the socket's error")
    func startFailure() throws {
        let context = try ZMQContext()
        let error = #expect(throws: ZMQError.self) {
            _ = try ZMQSocketLoop(context: context, name: "bad") { context throws(ZMQError) in
                let socket = try ZMQSocket(context, type: .router)
                try socket.bind("nonsense://")
                return socket
            }
        }
        #expect(error?.code == .endpoint)
    }
}
