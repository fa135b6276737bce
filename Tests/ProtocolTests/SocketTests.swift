import Foundation
import Protocol
import Testing

/// Real sockets over loopback TCP with ephemeral ports. Each test owns its context and its
/// sockets on the test's own thread (the test functions are synchronous, so they never hop).
@Suite("ZeroMQ sockets", .serialized)
struct SocketTests {
    /// Generous: loopback answers in microseconds; this only bounds a broken test.
    static let timeout = Duration.seconds(5)

    func receiveRouted(_ router: ZMQSocket) throws -> RoutedMessage {
        #expect(try router.poll(.readable, timeout: Self.timeout).contains(.readable))
        return try #require(try router.receiveRouted(wait: false))
    }

    func receiveMessage(_ dealer: ZMQSocket) throws -> Message {
        #expect(try dealer.poll(.readable, timeout: Self.timeout).contains(.readable))
        let result = try #require(try dealer.receiveMessage(wait: false))
        return try result.get()
    }

    @Test("ROUTER and DEALER exchange messages both ways, told apart by identity")
    func routerDealerExchange() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router, options: ZMQSocketOptions { $0.routerMandatory = true })
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:") && !endpoint.hasSuffix(":*"))

        let worker1 = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions { $0.routingID = Data("worker-1".utf8) })
        let worker2 = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions { $0.routingID = Data("worker-2".utf8) })
        try worker1.connect(endpoint)
        try worker2.connect(endpoint)

        try worker1.send(Message.ready(Ready(credit: 1)).wireMessage())
        try worker2.send(Message.ready(Ready(credit: 2)).wireMessage())
        var credits: [Data: Int] = [:]
        for _ in 0..<2 {
            let routed = try receiveRouted(router)
            guard case .ready(let ready) = try routed.decode() else {
                Issue.record("expected ready")
                continue
            }
            credits[routed.identity] = ready.credit
        }
        #expect(credits == [Data("worker-1".utf8): 1, Data("worker-2".utf8): 2])

        let assignment = Samples.all.first { $0.kind == .assign }!
        try router.send(assignment.wireMessage(), to: Data("worker-2".utf8))
        #expect(try receiveMessage(worker2) == assignment)
        #expect(try worker1.poll(.readable, timeout: .milliseconds(50)).isEmpty)

        let result = Samples.all.first { $0.kind == .result }!
        try worker2.send(result.wireMessage())
        let routed = try receiveRouted(router)
        #expect(routed.identity == Data("worker-2".utf8))
        #expect(try routed.decode() == result)
    }

    @Test("a ROUTER with mandatory routing reports an unknown peer instead of dropping")
    func routerMandatory() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router, options: ZMQSocketOptions { $0.routerMandatory = true })
        try router.bind("tcp://127.0.0.1:*")
        let error = #expect(throws: ZMQError.self) {
            try router.send(Message.heartbeat(Heartbeat()).wireMessage(), to: Data("nobody".utf8))
        }
        #expect(error?.code == .peerUnreachable)
    }

    @Test("a malformed message reaches the ROUTER as a decode error with the sender's identity, and an error reply goes back")
    func malformedOverTheWire() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let client = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions { $0.routingID = Data("client".utf8) })
        try client.connect(endpoint)

        // 40 frames: more than the limit; the reader keeps only what it needs to say so.
        try client.send(frames(kind: "ready", header: #"{"credit":1}"#) + Array(repeating: Data([7]), count: 37))
        let routed = try receiveRouted(router)
        #expect(routed.identity == Data("client".utf8))
        #expect(routed.multipart.frameCount == 40)
        #expect(routed.multipart.frames.count <= WireLimits.default.maxFrames)
        let error = #expect(throws: ProtocolError.self) { try routed.decode() }
        #expect(error?.code == .tooManyFrames)

        try router.send(Message.error(ErrorReply(try #require(error))).wireMessage(), to: routed.identity)
        guard case .error(let reply) = try receiveMessage(client) else {
            Issue.record("expected an error reply")
            return
        }
        #expect(reply.code == "tooManyFrames")

        // The connection still works after the refusal.
        try client.send(Message.heartbeat(Heartbeat()).wireMessage())
        #expect(try receiveRouted(router).decode() == .heartbeat(Heartbeat()))
    }

    @Test("a frame over ZMQ_MAXMSGSIZE never reaches the application")
    func maxMessageSize() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, type: .router, options: ZMQSocketOptions(limits: WireLimits(maxFrameBytes: 1024)))
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let big = try ZMQSocket(context, type: .dealer)
        try big.connect(endpoint)
        try big.send(frames(kind: "heartbeat", header: "{}", payloads: [Data(count: 4096)]))
        let small = try ZMQSocket(context, type: .dealer)
        try small.connect(endpoint)
        try small.send(Message.heartbeat(Heartbeat()).wireMessage())
        // The first message to arrive is the small one: libzmq dropped the big sender.
        let routed = try receiveRouted(router)
        #expect(try routed.decode() == .heartbeat(Heartbeat()))
        #expect(try router.poll(.readable, timeout: .milliseconds(100)).isEmpty)
    }

    @Test("poll returns no events when the timeout passes")
    func pollTimeout() throws {
        let context = try ZMQContext()
        let dealer = try ZMQSocket(context, type: .dealer)
        try dealer.connect("tcp://127.0.0.1:9") // discard port: nothing will ever answer
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try dealer.poll(.readable, timeout: .milliseconds(30)).isEmpty)
        #expect(clock.now - start >= .milliseconds(25))
        #expect(try dealer.receive(wait: false) == nil)
    }

    @Test("a wake-up from another thread ends a poll that would otherwise wait forever")
    func wakeup() throws {
        let context = try ZMQContext()
        let wakeup = try ZMQWakeup(context: context)
        let receiver = try wakeup.makeReceiver()
        let thread = Thread { wakeup.signal(); wakeup.signal() }
        thread.start()
        #expect(try receiver.poll(.readable, timeout: Self.timeout).contains(.readable))
        try ZMQWakeup.drain(receiver)
        #expect(try receiver.poll(.readable, timeout: .zero).isEmpty)
    }

    @Test("context shutdown wakes a blocked poll with contextTerminated")
    func shutdown() throws {
        let context = try ZMQContext()
        let dealer = try ZMQSocket(context, type: .dealer)
        try dealer.connect("tcp://127.0.0.1:9")
        let thread = Thread { context.shutdown() }
        thread.start()
        let error = #expect(throws: ZMQError.self) { _ = try dealer.poll(.readable, timeout: nil) }
        #expect(error?.code == .contextTerminated)
        dealer.close()
    }

    @Test("binding an address in use and a bad endpoint are endpoint errors")
    func endpointErrors() throws {
        let context = try ZMQContext()
        let first = try ZMQSocket(context, type: .router)
        let endpoint = try first.bind("tcp://127.0.0.1:*")
        let second = try ZMQSocket(context, type: .router)
        #expect(throws: ZMQError.self) { try second.bind(endpoint) }
        let error = #expect(throws: ZMQError.self) { try second.bind("nonsense://x") }
        #expect(error?.code == .endpoint)
        second.close()
        #expect((#expect(throws: ZMQError.self) { try second.bind("tcp://127.0.0.1:*") })?.code == .closed)
    }
}
