import Foundation
import Testing
import TestSupport
import Farm

/// The HTTP actions on a real coordinator: every one needs the token (even on loopback),
/// bodies are strictly read, refusals are JSON with the right status, and nothing a client
/// sends stops the coordinator.
@Suite(.serialized)
struct FarmHTTPActionTests {
    /// POST `body` to `url` (curl): status code and body.
    static func post(_ url: String, _ body: String, token: String? = nil) throws -> (status: Int, body: Data) {
        let reply = try Curl.run(url, ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body]
                                     + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []))
        return (reply.status, reply.body)
    }

    static func error(_ body: Data) -> String {
        ((try? JSONDecoder().decode([String: String].self, from: body))?["error"]) ?? "(not a JSON error: \(String(decoding: body, as: UTF8.self)))"
    }

    @Test func actionsNeedTheTokenAndRefuseWhatTheyCannotRead() throws {
        let farm = try FarmHarness()
        let token = "t0ken-" + UUID().uuidString
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: farm.dir.path("http.token")))
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0", "--http-token", farm.dir.path("http.token")])
        let base = try FarmHTTPTests.httpBase(farm)
        let job = try farm.submitSweep(gamma: "0.5", iterations: 2)   // no workers: it stays queued
        let jobURL = base + "/api/v1/jobs/" + job
        func priority() throws -> Int? {
            try JSONDecoder().decode(FarmStatusDocument.self, from: try FarmHTTPTests.get(jobURL).body).jobs.first?.priority
        }

        // Loopback reads freely, but acts only with the token.
        #expect(try Self.post(jobURL + "/cancel", "").status == 401)
        #expect(try Self.post(jobURL + "/cancel", "", token: "wrong-" + token).status == 401)
        #expect(try Self.post(jobURL + "/priority", #"{"priority": 7}"#, token: String(token.dropLast())).status == 401)
        #expect(try priority() == 0)

        for body in [#"{"priority": "high"}"#, #"{"priority": 7, "extra": 1}"#, "priority=7", "[7]", #"{"priority": 7, "priority": 8}"#,
                     "{}", #"{"priority": 1e12}"#, #"{"priority": null}"#, "{\"priority\": 7"] {
            let (code, answer) = try Self.post(jobURL + "/priority", body, token: token)
            #expect(code == 400, "\(body) → \(code) \(Self.error(answer))")
            #expect(!Self.error(answer).hasPrefix("(not a JSON error"), "\(body)")
        }
        let large = "{\"priority\": 7" + String(repeating: " ", count: 5000) + "}"
        #expect(try Self.post(jobURL + "/priority", large, token: token).status == 413)
        #expect(try Self.post(jobURL + "/cancel", #"{"now": true}"#, token: token).status == 400)
        #expect(try FarmHTTPTests.get(jobURL + "/cancel").status == 405, "a GET never acts")
        #expect(try priority() == 0, "nothing malformed changed the job")
        #expect(farm.coordinator?.isRunning == true)

        let (code, answer) = try Self.post(jobURL + "/priority", #"{"priority": 7}"#, token: token)
        #expect(code == 200, "\(Self.error(answer))")
        let outcome = try JSONDecoder().decode(FarmActionOutcome.self, from: answer)
        #expect(outcome.action == "priority" && outcome.priority == 7 && outcome.changed)
        #expect(try priority() == 7)

        #expect(try Self.post(base + "/api/v1/jobs/no-such-job/priority", #"{"priority": 1}"#, token: token).status == 404)
        #expect(try Self.post(jobURL + "/block", #"{"worker": "nobody", "blocked": true}"#, token: token).status == 404)
        #expect(try Self.post(base + "/api/v1/workers/nobody/drain", #"{"drain": true}"#, token: token).status == 404)

        // A worker the records know (it said hello) can be blocked and drained by name.
        let peer = try RawPeer(farm.endpoint)
        _ = try peer.join(as: "node-h")
        #expect(try Self.post(jobURL + "/block", #"{"worker": "node-h", "blocked": true}"#, token: token).status == 200)
        let blocked = try JSONDecoder().decode(FarmStatusDocument.self, from: try FarmHTTPTests.get(jobURL).body)
        #expect(blocked.jobs.first?.blockedWorkers == ["node-h"])
        let drained = try Self.post(base + "/api/v1/workers/node-h/drain", #"{"drain": true}"#, token: token)
        #expect(drained.status == 200 && (try? JSONDecoder().decode(FarmActionOutcome.self, from: drained.body))?.worker == "node-h")
        #expect(try Self.post(base + "/api/v1/workers/node-h/drain", #"{"drain": false}"#, token: token).status == 200)

        let cancelled = try Self.post(jobURL + "/cancel", "", token: token)
        #expect(cancelled.status == 200, "\(Self.error(cancelled.body))")
        #expect(try JSONDecoder().decode(FarmStatusDocument.self, from: try FarmHTTPTests.get(jobURL).body).jobs.first?.state == .cancelled)
        let again = try Self.post(jobURL + "/cancel", "{}", token: token)
        #expect(again.status == 409 && Self.error(again.body).contains("cancelled"), "\(Self.error(again.body))")
        #expect(try FarmHTTPTests.get(base + "/api/v1/status").status == 200, "the coordinator serves on")
    }

    @Test func withoutATokenTheCoordinatorRefusesEveryAction() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        let job = try farm.submitSweep(gamma: "0.5", iterations: 2)
        let (code, body) = try Self.post(base + "/api/v1/jobs/\(job)/cancel", "", token: "anything-at-all-0123")
        #expect(code == 403 && Self.error(body).contains("--http-token"), "\(code) \(Self.error(body))")
        #expect(try JSONDecoder().decode(FarmStatusDocument.self, from: try FarmHTTPTests.get(base + "/api/v1/jobs/" + job).body)
            .jobs.first?.state == .queued)
    }
}
