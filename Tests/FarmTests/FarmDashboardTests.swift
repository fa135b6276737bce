import Foundation
import Testing
import TestSupport

/// The dashboard's pages on a real farm, read with curl: the farm and job pages show what the
/// records hold, the event stream sends the page's fragments, job files are served with their
/// types and nothing outside the job's folder is, reading off loopback takes the token (header
/// or the pages' cookie, which never authorises an action), and an open page does not hold up a
/// SIGTERM. (The browser itself is scripts/test-dashboard.sh.)
@Suite(.serialized)
struct FarmDashboardTests {
    /// curl with `arguments` before the URL; the body as text.
    static func curl(_ url: String, _ arguments: [String] = []) throws -> (status: Int, body: String, contentType: String) {
        let reply = try Curl.run(url, arguments)
        return (reply.status, reply.text, reply.contentType)
    }

    @Test func pagesEventsAndFilesShowTheFarm() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        try farm.startWorkers(1)
        let job = try farm.submitSweep(gamma: "0:1:0.5", iterations: 3)
        #expect(try farm.wait(job).status == 0)

        let front = try Self.curl(base + "/")
        #expect(front.status == 200 && front.contentType.hasPrefix("text/html"))
        #expect(front.body.contains("/jobs/\(job)") && front.body.contains("id=\"workers\"") && front.body.contains("succeeded"))
        let page = try Self.curl(base + "/jobs/" + job)
        #expect(page.status == 200)
        for key in ["gamma=0", "gamma=0.5", "gamma=1"] {
            #expect(page.body.contains("data-key=\"\(key)\" data-state=\"done\""), "the page shows point \(key) done")
        }
        #expect(page.body.contains("/api/v1/jobs/\(job)/results/gamma=0.5/preview"), "a finished point shows its thumbnail")
        #expect(try Self.curl(base + "/jobs/no-such-job").status == 404)

        // The event stream's first event carries every fragment of the page.
        let events = try Self.curl(base + "/events?job=" + job, ["-N", "--max-time", "3"])
        #expect(events.body.contains("event: fragments") && events.body.contains("\"job-head\"") && events.body.contains("\"pt-2\""),
                "\(events.body.prefix(300))")

        // Files, with their types; nothing outside the job's folder, whatever the spelling.
        let csv = try Self.curl(base + "/jobs/\(job)/files/losses.csv")
        #expect(csv.status == 200 && csv.contentType.hasPrefix("text/csv") && csv.body.hasPrefix("task"))
        #expect(try Self.curl(base + "/jobs/\(job)/files/gamma-0.5.png").contentType == "image/png")
        let folder = farm.data + "/jobs/" + job
        try FileManager.default.createSymbolicLink(atPath: folder + "/escape.sqlite", withDestinationPath: farm.data + "/farm.sqlite")
        try Data("secret".utf8).write(to: URL(fileURLWithPath: folder + "/.hidden"))
        for path in ["/jobs/\(job)/files/../../farm.sqlite", "/jobs/\(job)/files/%2e%2e/%2e%2e/farm.sqlite",
                     "/jobs/\(job)/files/..%2F..%2Ffarm.sqlite", "/jobs/../files/farm.sqlite", "/jobs/\(job)/files/escape.sqlite",
                     "/jobs/\(job)/files/.hidden", "/jobs/\(job)/files/", "/jobs/\(job)/files/tiles"] {
            let reply = try Self.curl(base + path, ["--path-as-is"])
            #expect(reply.status == 404, "\(path) gave \(reply.status)")
            #expect(!reply.body.contains("SQLite format") && !reply.body.contains("secret"), "\(path) leaked a file")
        }
    }

    @Test func offLoopbackThePagesTakeTheTokenAsACookieButActionsDoNot() throws {
        let farm = try FarmHarness()
        let token = "t0ken-" + UUID().uuidString
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: farm.dir.path("http.token")))
        try farm.startCoordinator(extra: ["--http", "0.0.0.0:0", "--http-token", farm.dir.path("http.token")])
        let port = try FarmHTTPTests.httpBase(farm).split(separator: ":").last.map(String.init) ?? ""
        let base = "http://127.0.0.1:" + port
        let asked = try Self.curl(base + "/")
        #expect(asked.status == 401 && asked.body.contains("token") && !asked.body.contains("id=\"workers\""))
        #expect(try Self.curl(base + "/events", ["--max-time", "2"]).status == 401)
        #expect(try Self.curl(base + "/", ["-H", "Cookie: stylefarm_token=wrong-\(token)"]).status == 401)
        let page = try Self.curl(base + "/", ["-H", "Cookie: stylefarm_token=\(token)"])
        #expect(page.status == 200 && page.body.contains("id=\"workers\""))
        let job = try farm.submitSweep(gamma: "0,1", iterations: 200)
        let cancel = try Self.curl(base + "/api/v1/jobs/\(job)/cancel", ["-X", "POST", "-H", "Cookie: stylefarm_token=\(token)"])
        #expect(cancel.status == 401, "the cookie alone must not authorise an action")
    }

    @Test func anOpenPageDoesNotHoldUpSIGTERM() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        reader.arguments = ["-s", "-N", base + "/events"]
        reader.standardOutput = FileHandle.nullDevice
        try reader.run()
        defer { if reader.isRunning { reader.terminate() } }
        Thread.sleep(forTimeInterval: 1.5)
        #expect(reader.isRunning, "the stream stays open")
        let coordinator = try #require(farm.coordinator)
        let asked = Date()
        coordinator.terminate()
        while coordinator.isRunning, Date().timeIntervalSince(asked) < 20 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!coordinator.isRunning && coordinator.terminationStatus == 0)
        #expect(Date().timeIntervalSince(asked) < 8, "stopped in \(Date().timeIntervalSince(asked)) s with a page open")
    }
}
