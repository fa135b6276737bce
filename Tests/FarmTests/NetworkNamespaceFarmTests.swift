import Foundation
import Testing
import TestSupport

/// Network namespaces made by the test: each worker gets its own network stack and address,
/// joined to the coordinator's by a veth pair, as workers on separate hosts would be. Needs
/// root and `ip netns`; skipped otherwise.
final class NetworkNamespaces {
    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Whether this process may make namespaces (tried once, for real).
    static let usable: Bool = {
        guard getuid() == 0, ip != nil else { return false }
        let probe = "sfprobe\(getpid())"
        guard (try? run(["netns", "add", probe])) == 0 else { return false }
        _ = try? run(["netns", "del", probe])
        return true
    }()

    @discardableResult
    static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip ?? "/usr/sbin/ip")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private(set) var names: [String] = []
    private var links: [String] = []

    /// A namespace `name` whose address is 10.213.`subnet`.2, reaching this namespace's
    /// 10.213.`subnet`.1 over a veth pair. Returns the host-side address.
    func add(_ name: String, subnet: Int) throws -> String {
        let host = "sfh\(subnet)", guest = "sfg\(subnet)"
        let steps: [[String]] = [
            ["netns", "add", name],
            ["link", "add", host, "type", "veth", "peer", "name", guest, "netns", name],
            ["addr", "add", "10.213.\(subnet).1/24", "dev", host],
            ["link", "set", host, "up"],
            ["netns", "exec", name, "ip", "addr", "add", "10.213.\(subnet).2/24", "dev", guest],
            ["netns", "exec", name, "ip", "link", "set", guest, "up"],
            ["netns", "exec", name, "ip", "link", "set", "lo", "up"],
        ]
        names.append(name)
        links.append(host)
        for step in steps where try Self.run(step) != 0 {
            throw TestFixtureMissing(message: "`ip \(step.joined(separator: " "))` failed")
        }
        return "10.213.\(subnet).1"
    }

    deinit {
        for link in links { _ = try? Self.run(["link", "del", link]) }
        for name in names { _ = try? Self.run(["netns", "del", name]) }
    }
}

@Suite(.serialized)
struct NetworkNamespaceFarmTests {
    @Test(.enabled(if: NetworkNamespaces.usable, "needs root and `ip netns`"))
    func workersInTheirOwnNetworkNamespacesCompleteASweep() throws {
        let namespaces = NetworkNamespaces()
        let subnet = Int(getpid() % 200) + 20
        let addresses = [try namespaces.add("sfw\(getpid())a", subnet: subnet),
                         try namespaces.add("sfw\(getpid())b", subnet: subnet + 1)]
        let farm = try FarmHarness()
        // Not loopback any more: without keys the coordinator wants --insecure.
        try farm.startCoordinator(host: "0.0.0.0", extra: ["--insecure"])
        let port = try #require(farm.endpoint.split(separator: ":").last.map(String.init))
        for (index, (namespace, address)) in zip(namespaces.names, addresses).enumerated() {
            farm.workers.append(try farm.launch(
                ["netns", "exec", namespace, farm.binary, "worker", "--join", "tcp://\(address):\(port)", "--insecure",
                 "--threads", "1", "--name", "ns\(index)"],
                log: "worker-ns\(index).log", executable: NetworkNamespaces.ip))
        }
        farm.endpoint = "tcp://127.0.0.1:\(port)"
        let job = try farm.submitSweep(gamma: "0:1:0.25", iterations: 3)
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)\n\(farm.log("worker-ns"))")
        let workers = try farm.run(["workers", "--coordinator", farm.endpoint]).output
        #expect(workers.contains("ns0") && workers.contains("ns1"), "both namespaced workers joined: \(workers)")
    }
}
