import Foundation
import Engine
import Farm
import Protocol
import Testing

/// A hand-driven DEALER on a real socket: what a misbehaving worker or client sends.
final class RawPeer {
    let context: ZMQContext
    let socket: ZMQSocket

    init(_ endpoint: String) throws {
        context = try ZMQContext()
        socket = try ZMQSocket(context, type: .dealer)
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    func send(_ message: Message) throws { try socket.send(try message.wireMessage()) }

    /// The next message within `timeout`, or nil.
    func receive(timeout: Duration = .seconds(10)) throws -> Message? {
        guard try socket.poll(.readable, timeout: timeout).contains(.readable),
              let received = try socket.receiveMessage(wait: false) else { return nil }
        return try received.get()
    }

    /// Messages until one satisfies `match` (skipping heartbeats and the like), or nil.
    func receive(timeout: Duration = .seconds(10), until match: (Message) -> Bool) throws -> Message? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = try receive(timeout: deadline - ContinuousClock.now) else { return nil }
            if match(message) { return message }
        }
        return nil
    }

    /// A hello a coordinator accepts: this build's engine, and the weights it serves (the
    /// ones in STYLEFARM_HOME, which the tests' coordinators find).
    static func hello(_ name: String, memoryBytes: Int64? = nil, capabilities: [String] = WorkerCapability.allCases.map(\.rawValue)) -> Message {
        .hello(Hello(workerName: name, threads: 1, capabilities: capabilities, weightsSHA256: localWeights,
                     engineVersion: StyleFarmBuild.engineVersion, memoryBytes: memoryBytes))
    }

    static let localWeights: SHA256Digest? = {
        let path = WeightsStore.fromEnvironment().weightsPath
        return (try? StreamingSHA256.hex(ofFileAt: path)).flatMap(SHA256Digest.init(hex:))
    }()

    /// Says hello and waits for the welcome.
    func join(as name: String) throws -> Welcome {
        try send(Self.hello(name))
        guard case .welcome(let welcome)? = try receive(until: { if case .welcome = $0 { true } else { false } }) else {
            throw TestFailure("no welcome for \(name)")
        }
        return welcome
    }

    func errorCode(timeout: Duration = .seconds(10)) throws -> String? {
        if case .error(let error)? = try receive(timeout: timeout, until: { if case .error = $0 { true } else { false } }) { return error.code }
        return nil
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
