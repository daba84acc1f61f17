import Foundation
import SleeperCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The service when its database goes away and when it is told to stop: answers come at once
/// and tell the truth, nothing half-written, recovery on its own, responses in flight delivered.
@Suite("The service under faults", .serialized, .timeLimit(.minutes(15)))
struct ServiceFaultTests {
    /// An embedded home with the example estate and an editor token.
    static func home(_ name: String, estate: String? = nil) async throws -> (env: [String: String], token: String) {
        let env = try FaultTests.home(name)
        let imported = try await Fixtures.sleeperProcess(["import", estate ?? Fixtures.packageRoot.appending(path: "Examples/inventory.yaml").path], environment: env)
        try #require(imported.status == 0, "\(imported.stderr)")
        let scored = try await Fixtures.sleeperProcess(["score"], environment: env)
        try #require(scored.status == 0, "\(scored.stderr)")
        let token = try await Fixtures.sleeperProcess(["token", "create", "--name", "ops", "--role", "editor"], environment: env)
        try #require(token.status == 0, "\(token.stderr)")
        return (env, token.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func timed(_ call: () async throws -> ServerProcess.Reply) async throws -> (ServerProcess.Reply, Double) {
        let start = ContinuousClock.now
        let reply = try await call()
        let took = ContinuousClock.now - start
        return (reply, Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
    }

    static func evidenceCount(_ server: ServerProcess, _ token: String) async throws -> Int {
        let reply = try await server.call("GET", "/v1/evidence?limit=1000", token: token)
        return ((reply.json as? [String: Any])?["items"] as? [Any])?.count ?? -1
    }

    @Test("the database killed under a running service: /readyz and every request answer within a second with 503 and Retry-After, nothing is written, and the service recovers by itself")
    func databaseDownUnderService() async throws {
        let (env, token) = try await Self.home("fault-serve")
        let server = try await ServerProcess(databaseURL: nil, environment: env)
        defer { server.terminate() }
        #expect(try await server.call("GET", "/readyz").status == 200)
        let evidenceBefore = try await Self.evidenceCount(server, token)
        #expect(evidenceBefore >= 0)

        let pid = try #require(FaultTests.postmasterPID(env))
        kill(pid, SIGKILL)
        let killed = ContinuousClock.now
        var slowestReady = 0.0, slowestSettled = 0.0, settledAnswers = 0
        while ContinuousClock.now - killed < .seconds(5) {
            // What a request costs on this machine now, without the database: the bounds below
            // are stated over it, so that they hold on a busy machine (load 13 to 21 once made
            // every answer take seconds).
            let (_, before) = try await Self.timed { try await server.call("GET", "/healthz") }
            let (ready, readyTook) = try await Self.timed { try await server.call("GET", "/readyz") }
            // Timed again after: a stall of this 2-core machine that began after the first
            // /healthz (a clean-clone CI run once saw /readyz at 2.25 s beside a 0.09 s /healthz)
            // shows in the second one.
            let (_, after) = try await Self.timed { try await server.call("GET", "/healthz") }
            let baseline = max(before, after), slack = 4 * baseline
            slowestReady = max(slowestReady, readyTook)
            #expect(readyTook < 1.0 + slack, "/readyz took \(readyTook) s with the database down (/healthz: \(before) s before, \(after) s after)")
            // Known: the service itself has just said so (a fixed time after the kill measured how
            // fast a busy machine's probe noticed, not how the service answers once it knows).
            let settled = ready.status == 503
            let (list, listTook) = try await Self.timed { try await server.call("GET", "/v1/inventory/models", token: token) }
            #expect(listTook < 4.0 + slack, "a request in the first seconds of the outage took \(listTook) s (/healthz: \(baseline) s)")
            if settled {
                // Once the outage is known every answer is immediate, says why and when to retry.
                settledAnswers += 1
                slowestSettled = max(slowestSettled, listTook)
                #expect(ready.status == 503 && ready.body.contains("not_ready"), "\(ready.status) \(ready.body)")
                #expect(ready.headers["retry-after"] != nil)
                #expect(list.status == 503, "\(list.status) \(list.body)")
                #expect(list.body.contains("database_unavailable"), "\(list.body)")
                #expect(list.headers["retry-after"] == "2")
                // Answered from the known outage, not after waiting on the pool (which takes the
                // gate's 2 s grace and a write's 6 s patience): 4 s tells the two apart on a busy machine.
                #expect(listTook < 4.0 + slack, "a request took \(listTook) s with the outage known (/healthz: \(baseline) s)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(settledAnswers > 0)
        let post = try await server.call(
            "POST", "/v1/evidence", token: token,
            body: Data(#"{"subject": "model:acme-support-ft", "control": "SLP-BACKDOOR-SCAN", "result": "pass"}"#.utf8))
        #expect(post.status == 503, "\(post.body)")
        #expect(post.body.contains("nothing was written"), "\(post.body)")
        let metrics = try await server.call("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("sleeper_db_up 0"))

        // Any command brings the embedded cluster back; the service follows by itself.
        let restart = try await Fixtures.sleeperProcess(["inventory", "models"], environment: env)
        #expect(restart.status == 0, "\(restart.stderr)")
        let restarted = ContinuousClock.now
        var recovered: Duration?
        while ContinuousClock.now - restarted < .seconds(20) {
            if try await server.call("GET", "/v1/inventory/models", token: token).status == 200 { recovered = ContinuousClock.now - restarted; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let recovery = try #require(recovered, "the service did not recover within 20 s of the database's return")
        #expect(recovery < .seconds(5), "recovery took \(recovery)")
        #expect(try await server.call("GET", "/readyz").status == 200)
        #expect(try await Self.evidenceCount(server, token) == evidenceBefore, "a refused write left a record")
        print("service with the database down: slowest /readyz \(slowestReady) s, slowest request once known \(slowestSettled) s, recovery \(recovery)")
        #expect(await server.stop() == 0, "\(server.log)")
        _ = try await Fixtures.sleeperProcess(["db", "stop"], environment: env)
    }

    @Test("SIGTERM during a large export: the response is delivered whole and the server exits 0; past --drain-seconds it is cut off, the log says so and the exit is 1")
    func drainOnStop() async throws {
        let estate = FileManager.default.temporaryDirectory.appending(path: "drain-estate-\(UUID().uuidString.prefix(6)).json")
        let synth = try await Fixtures.python("synth", ["--credentials", "10000", "--seed", "4", "--out", estate.path])
        try #require(synth.ok, "\(synth.output)")
        defer { try? FileManager.default.removeItem(at: estate) }
        let (env, token) = try await Self.home("fault-drain", estate: estate.path)

        // Enough time: every byte arrives, however slowly the client reads.
        let patient = try await ServerProcess(databaseURL: nil, environment: env)
        let whole = try await Fixtures.python(
            "slow-get",
            [
                "--port", String(patient.port), "--path", "/v1/exports/csv", "--token", token,
                "--rate", "3000000", "--sigterm", String(patient.pid),
            ])
        let delivered = try #require(try JSONSerialization.jsonObject(with: Data(whole.output.utf8)) as? [String: Any], "\(whole.output)")
        let announced = try #require(delivered["announced"] as? Int)
        #expect(delivered["status"] as? Int == 200)
        #expect(announced > 4_000_000, "the export must outgrow the socket buffers: \(announced) bytes")
        #expect(delivered["received"] as? Int == announced, "\(delivered)")
        #expect(await patient.waitForExit(seconds: 60) == 0, "\(patient.log)")

        // Too little time: the server cuts the response off and says so.
        let hasty = try await ServerProcess(databaseURL: nil, extra: ["--drain-seconds", "1"], environment: env)
        let cut = try await Fixtures.python(
            "slow-get",
            [
                "--port", String(hasty.port), "--path", "/v1/exports/csv", "--token", token,
                "--rate", "500000", "--sigterm", String(hasty.pid),
            ])
        let partial = try #require(try JSONSerialization.jsonObject(with: Data(cut.output.utf8)) as? [String: Any], "\(cut.output)")
        #expect((partial["received"] as? Int ?? 0) < announced, "\(partial)")
        #expect(await hasty.waitForExit(seconds: 30) == 1, "\(hasty.log)")
        #expect(hasty.log.contains("1 response(s) were cut off"), "\(hasty.log)")
        print("drain: \(announced) bytes delivered whole in \(delivered["seconds"] ?? "?") s; with --drain-seconds 1: \(partial["received"] ?? "?") bytes")
        _ = try await Fixtures.sleeperProcess(["db", "stop"], environment: env)
    }
}
