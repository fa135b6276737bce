import Dispatch
import Foundation
import Protocol
import Synchronization
import Testing

@Suite("CURVE keys")
struct CurveKeyTests {
    @Test("a generated key pair round-trips through Z85 and derives its public half")
    func generate() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.z85.count == 40)
        #expect(pair.publicKey.bytes.count == 32)
        #expect(CurveKey(bytes: pair.publicKey.bytes) == pair.publicKey)
        #expect(try pair.secretKey.publicKey() == pair.publicKey)
        #expect(!"\(pair.secretKey)".contains(pair.secretKey.z85))
        #expect(try CurveKeyPair.generate() != pair)
    }

    @Test("text that is not Z85 is not a key", arguments: ["", "short", String(repeating: "~", count: 40), String(repeating: "a", count: 41)])
    func badZ85(text: String) {
        #expect(CurveKey(z85: text) == nil)
        #expect(CurveSecretKey(z85: text) == nil)
    }

    @Test("key files: the public file is readable, the secret file is 0600 and loads back")
    func files() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pair = try CurveKeyPair.generate()
        let (publicFile, secretFile) = try CurveKeyFile.write(pair, name: "worker-1", directory: directory)
        #expect(publicFile.lastPathComponent == "worker-1.key")
        let secretMode = try FileManager.default.attributesOfItem(atPath: secretFile.path)[.posixPermissions] as? Int
        let publicMode = try FileManager.default.attributesOfItem(atPath: publicFile.path)[.posixPermissions] as? Int
        #expect(secretMode == 0o600)
        #expect(publicMode == 0o644)
        #expect(try CurveKeyFile.readPublicKey(at: publicFile) == pair.publicKey)
        #expect(try CurveKeyFile.readKeyPair(secretFile: secretFile) == pair)
        #expect(!(try String(contentsOf: publicFile, encoding: .utf8)).contains(pair.secretKey.z85))

        let again = #expect(throws: CurveKeyFileError.self) { try CurveKeyFile.write(pair, name: "worker-1", directory: directory) }
        #expect(again?.code == .alreadyExists)
    }

    @Test("a secret key file others can read is refused")
    func insecureSecretFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, secretFile) = try CurveKeyFile.write(CurveKeyPair.generate(), name: "w", directory: directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secretFile.path)
        let error = #expect(throws: CurveKeyFileError.self) { try CurveKeyFile.readKeyPair(secretFile: secretFile) }
        #expect(error?.code == .insecurePermissions)
        #expect(error?.message.contains("chmod 600") == true)
    }

    @Test("malformed and missing key files give clear errors")
    func malformedFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.key")
        try Data("public-key: not-a-key\n".utf8).write(to: bad)
        #expect((#expect(throws: CurveKeyFileError.self) { try CurveKeyFile.readPublicKey(at: bad) })?.code == .malformed)
        let missing = directory.appendingPathComponent("missing.key")
        #expect((#expect(throws: CurveKeyFileError.self) { try CurveKeyFile.readPublicKey(at: missing) })?.code == .notFound)
        #expect((#expect(throws: CurveKeyFileError.self) { try CurveAllowList.load(directory: directory) })?.code == .malformed)
    }

    @Test("an allow-list loads every public key file of a directory")
    func allowList() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = try CurveKeyPair.generate(), b = try CurveKeyPair.generate()
        try CurveKeyFile.write(a, name: "a", directory: directory)
        try CurveKeyFile.write(b, name: "b", directory: directory)
        let list = try CurveAllowList.load(directory: directory)
        #expect(list.names == [a.publicKey: "a", b.publicKey: "b"])
    }
}

/// Collects ZAP decisions from the handler's thread and lets the test wait for one.
final class DecisionLog: Sendable {
    private let decisions = Mutex<[ZAPHandler.Decision]>([])
    private let arrived = DispatchSemaphore(value: 0)

    func record(_ decision: ZAPHandler.Decision) {
        decisions.withLock { $0.append(decision) }
        arrived.signal()
    }

    /// Waits for the next decision (bounded).
    func next(timeout: DispatchTimeInterval = .seconds(5)) -> Bool {
        arrived.wait(timeout: .now() + timeout) == .success
    }

    var all: [ZAPHandler.Decision] { decisions.withLock { $0 } }
}

@Suite("CURVE with a ZAP allow-list", .serialized)
struct CurveSocketTests {
    static let timeout = Duration.seconds(5)

    @Test("an authorised client talks to the server and an unknown key gets nothing through")
    func allowListDecides() throws {
        let context = try ZMQContext()
        let server = try CurveKeyPair.generate()
        let allowed = try CurveKeyPair.generate()
        let stranger = try CurveKeyPair.generate()
        let log = DecisionLog()
        let handler = try ZAPHandler(context: context, allowList: CurveAllowList([allowed.publicKey: "worker-ok"]),
                                     domain: "stylefarm", onDecision: log.record)
        defer { handler.stop() }

        let router = try ZMQSocket(context, type: .router, options: ZMQSocketOptions {
            $0.security = .curveServer(secretKey: server.secretKey, zapDomain: "stylefarm")
        })
        let endpoint = try router.bind("tcp://127.0.0.1:*")

        // The stranger first: its handshake is refused, so its message never arrives.
        let refused = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions {
            $0.security = .curveClient(serverKey: server.publicKey, keyPair: stranger)
            $0.linger = .zero
        })
        try refused.connect(endpoint)
        try refused.send(Message.hello(Hello(workerName: "intruder", threads: 1, capabilities: [], weightsSHA256: Samples.digestA, engineVersion: "x")).wireMessage(), wait: false)
        #expect(log.next())
        let refusal = try #require(log.all.first)
        #expect(!refusal.allowed)
        #expect(refusal.statusCode == "400")
        #expect(refusal.publicKey == stranger.publicKey)
        #expect(refusal.mechanism == "CURVE")

        let worker = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions {
            $0.security = .curveClient(serverKey: server.publicKey, keyPair: allowed)
            $0.routingID = Data("w1".utf8)
        })
        try worker.connect(endpoint)
        let ready = Message.ready(Ready(credit: 3))
        try worker.send(ready.wireMessage())
        #expect(try router.poll(.readable, timeout: Self.timeout).contains(.readable))
        let routed = try #require(try router.receiveRouted(wait: false))
        #expect(routed.identity == Data("w1".utf8))
        #expect(try routed.decode() == ready)
        #expect(log.all.contains { $0.allowed && $0.keyName == "worker-ok" && $0.publicKey == allowed.publicKey })

        try router.send(Message.welcome(Welcome(workerID: "w1", heartbeatIntervalMilliseconds: 1000, liveness: 3)).wireMessage(), to: routed.identity)
        #expect(try worker.poll(.readable, timeout: Self.timeout).contains(.readable))

        // Nothing from the refused client ever reached the server.
        #expect(try router.poll(.readable, timeout: .milliseconds(100)).isEmpty)
        #expect(log.all.allSatisfy { $0.allowed == ($0.publicKey == allowed.publicKey) })
        refused.close()
    }

    @Test("reloading the allow-list admits a newly authorised key")
    func reload() throws {
        let context = try ZMQContext()
        let server = try CurveKeyPair.generate()
        let late = try CurveKeyPair.generate()
        let log = DecisionLog()
        let handler = try ZAPHandler(context: context, allowList: CurveAllowList(), onDecision: log.record)
        defer { handler.stop() }
        handler.update(CurveAllowList([late.publicKey: "late"]))

        let router = try ZMQSocket(context, type: .router, options: ZMQSocketOptions { $0.security = .curveServer(secretKey: server.secretKey) })
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let worker = try ZMQSocket(context, type: .dealer, options: ZMQSocketOptions { $0.security = .curveClient(serverKey: server.publicKey, keyPair: late) })
        try worker.connect(endpoint)
        try worker.send(Message.heartbeat(Heartbeat()).wireMessage())
        #expect(try router.poll(.readable, timeout: Self.timeout).contains(.readable))
        #expect(log.all.first?.keyName == "late")
    }

    @Test("a CURVE server cannot be created without a ZAP handler on its context")
    func requiresHandler() throws {
        let context = try ZMQContext()
        let server = try CurveKeyPair.generate()
        #expect(throws: ZMQError.self) {
            _ = try ZMQSocket(context, type: .router, options: ZMQSocketOptions { $0.security = .curveServer(secretKey: server.secretKey) })
        }
        let handler = try ZAPHandler(context: context, allowList: CurveAllowList())
        handler.stop()
        handler.stop() // idempotent
        #expect(throws: ZMQError.self) {
            _ = try ZMQSocket(context, type: .router, options: ZMQSocketOptions { $0.security = .curveServer(secretKey: server.secretKey) })
        }
    }

    @Test("a second ZAP handler on the same context fails to start instead of hanging")
    func secondHandler() throws {
        let context = try ZMQContext()
        let first = try ZAPHandler(context: context, allowList: CurveAllowList())
        defer { first.stop() }
        let error = #expect(throws: ZMQError.self) { _ = try ZAPHandler(context: context, allowList: CurveAllowList()) }
        #expect(error?.code == .endpoint)
    }
}
