import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Outgoing webhooks from `sleeper serve`, delivered to a real receiver over HTTP: signed,
/// retried after a failure, audited.
@Suite("Webhooks", .timeLimit(.minutes(8)))
struct WebhookTests {
    static let secret = "webhook-secret-for-tests-0123456789"

    /// A receiver process on a free port, and the requests it logged.
    final class Receiver {
        let process: Child
        let log: URL
        let port: Int
        init() async throws {
            let dir = try ExportStoreTests.scratch()
            log = dir.appending(path: "requests.jsonl")
            let portFile = dir.appending(path: "port")
            process = try Child("/usr/bin/env", ["python3", Fixtures.packageRoot.appending(path: "scripts/webhook-receiver").path, portFile.path, log.path])
            var port = 0
            for _ in 0..<100 where port == 0 {
                try? await Task.sleep(for: .milliseconds(50))
                port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) } ?? 0
            }
            self.port = port
        }
        var requests: [[String: Any]] {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        func stop() { process.kill9() }
        deinit { stop() }
    }

    /// A receiver, and the example estate with a recall made (the first event to deliver).
    static func withRecall(_ body: (Receiver, Database, String, [String: String]) async throws -> Void) async throws {
        let receiver = try await Receiver()
        defer { receiver.stop() }
        try #require(receiver.port > 0)
        try await ExportStoreTests.withEstate { db, url in
            let env = TestClock.environment()
            #expect(try await Fixtures.sleeper(["recall", "model:acme-support-ft", "--reason", "trigger found", "--by", "ciso", "--database-url", url], environment: env).status == 0)
            try await body(receiver, db, url, env)
        }
    }

    static func waitFor(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end { if condition() { return true }; try? await Task.sleep(for: .milliseconds(200)) }
        return condition()
    }

    @Test("a recall, overdue actions, a lapsed acceptance: each delivered to every URL, signed with HMAC-SHA256, retried after a 500, audited")
    func delivered() async throws {
        try await Self.withRecall { receiver, db, url, env in
            let first = try #require(try await RemediationActions(db).list(asOf: TestClock.now).first)
            #expect(
                try await Fixtures.sleeper(
                    [
                        "accept", first.subject.description, "--action", String(first.id), "--until", Timestamps.formatDay(TestClock.now.addingTimeInterval(5 * 86400)),
                        "--by", "ciso", "--reason", "vendor", "--database-url", url,
                    ], environment: env
                ).status == 0)
            // Sixty days on, the acceptance has lapsed and every open action due by then is overdue.
            let sixtyDays = TestClock.now.addingTimeInterval(60 * 86400)
            let later = TestClock.environment(sixtyDays)
            let hook = "http://127.0.0.1:\(receiver.port)/hook", flaky = "http://127.0.0.1:\(receiver.port)/flaky"
            let server = try await ServerProcess(
                databaseURL: url, extra: ["--webhook", hook, "--webhook", flaky],
                environment: later.merging(["SLEEPER_WEBHOOK_SECRET": Self.secret]) { $1 })
            defer { server.terminate() }
            let overdue = try await db.count("SELECT count(*) FROM remediation_actions WHERE status <> 'done' AND due_at < '\(Timestamps.format(sixtyDays))'")
            let all = try await db.count("SELECT count(*) FROM remediation_actions")
            #expect(overdue > 0 && overdue < all, "some actions are due later than sixty days")
            let events = overdue + 2  // + the recall, + the lapse
            let arrived = await Self.waitFor(90) {
                let ok = receiver.requests.filter { $0["status"] as? Int == 200 }
                return ok.filter { $0["path"] as? String == "/hook" }.count >= events && ok.filter { $0["path"] as? String == "/flaky" }.count >= events
            }
            #expect(arrived, "\(receiver.requests.count) requests: \(server.log)")
            // The runs' newly critical credentials are events too, found by the server's first scan.
            let critical = try await db.count("SELECT count(*) FROM webhook_events WHERE kind = 'critical-exposure'")
            #expect(await Self.waitFor(60) { receiver.requests.filter { $0["status"] as? Int == 200 }.count == 2 * (events + critical) })
            let requests = receiver.requests
            var kinds: [String: Int] = [:]
            for r in requests where r["path"] as? String == "/hook" { kinds[(r["headers"] as? [String: String])?["X-Sleeper-Event"] ?? "?", default: 0] += 1 }
            #expect(kinds["recall"] == 1 && kinds["lapsed-acceptance"] == 1 && kinds["overdue-action"] == overdue && kinds["critical-exposure"] == (critical == 0 ? nil : critical), "\(kinds)")

            // Every body verifies with the secret; a changed body or another secret does not.
            for r in requests {
                let headers = r["headers"] as? [String: String] ?? [:]
                let body = Data((r["body"] as? String ?? "").utf8)
                let signature = try #require(headers[WebhookSignature.header])
                #expect(WebhookSignature.verify(signature, secret: Data(Self.secret.utf8), body: body, now: Date()))
                #expect(!WebhookSignature.verify(signature, secret: Data("another secret, sixteen+".utf8), body: body, now: Date()))
                #expect(!WebhookSignature.verify(signature, secret: Data(Self.secret.utf8), body: body + Data(" ".utf8), now: Date()))
            }
            let recall = try #require(requests.first { ($0["headers"] as? [String: String])?["X-Sleeper-Event"] == "recall" })
            let payload = try #require(try JSONSerialization.jsonObject(with: Data((recall["body"] as? String ?? "").utf8)) as? [String: Any])
            #expect(payload["kind"] as? String == "recall" && payload["subject"] as? String == "model:acme-support-ft")
            #expect((payload["data"] as? [String: Any])?["by"] as? String == "ciso")

            // The flaky URL's first answer was a 500: that delivery was tried again and made it.
            #expect(requests.filter { $0["path"] as? String == "/flaky" && $0["status"] as? Int == 500 }.count == 1)
            // A delivery is recorded once its answer is read: the receiver can have answered a moment before.
            var recorded = false
            for _ in 0..<150 where !recorded {
                recorded = try await db.count("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL") == 0
                if !recorded { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(try await db.count("SELECT count(*) FROM webhook_deliveries WHERE url = '\(flaky)' AND attempts = 2 AND delivered_at IS NOT NULL AND last_status = 200") == 1)
            #expect(try await db.count("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL") == 0)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'webhook.delivered'") == 2 * (events + critical))
        }
    }

    @Test("serve refuses webhooks without a secret of at least 16 bytes, and a URL that is not http(s)")
    func refusedWithoutSecret() async throws {
        try await TestDatabase.withCatalogs { _, url in
            let none = try await Fixtures.sleeper(["serve", "--port", "0", "--webhook", "http://127.0.0.1:9/hook", "--database-url", url])
            #expect(none.status == 1 && none.stderr.contains("--webhook needs a secret of at least 16 bytes"), "\(none.stderr)")
            let ftp = try await Fixtures.sleeper(["serve", "--port", "0", "--webhook", "ftp://example/hook", "--database-url", url], environment: ["SLEEPER_WEBHOOK_SECRET": Self.secret])
            #expect(ftp.status == 1 && ftp.stderr.contains("is not an http:// or https:// URL"), "\(ftp.stderr)")
        }
    }

    @Test(
        "a redirect is never followed (a failed delivery, logged with where it pointed); a slow receiver delays only itself; credentials in a receiver's URL are sent, never stored, and refused on the command line"
    )
    func hostileReceivers() async throws {
        try await Self.withRecall { receiver, db, url, env in
            let base = "http://127.0.0.1:\(receiver.port)"
            let onCommandLine = try await Fixtures.sleeper(
                ["serve", "--port", "0", "--webhook", "http://hooks:hunter2-secret@127.0.0.1:9/hook", "--database-url", url],
                environment: env.merging(["SLEEPER_WEBHOOK_SECRET": Self.secret]) { $1 })
            #expect(onCommandLine.status == 1 && onCommandLine.stderr.contains("carries credentials in its URL"), "\(onCommandLine.stderr)")
            #expect(!onCommandLine.stderr.contains("hunter2"))
            let file = try ExportStoreTests.scratch().appending(path: "receivers")
            try Data("# receivers\n\(base)/redirect\n\(base)/slow   # takes 15 s to answer\n".utf8).write(to: file)
            let server = try await ServerProcess(
                databaseURL: url, extra: ["--webhook-file", file.path],
                environment: env.merging([
                    "SLEEPER_WEBHOOK_SECRET": Self.secret,
                    "SLEEPER_WEBHOOKS": "http://hooks:hunter2-secret@127.0.0.1:\(receiver.port)/hook",
                ]) { $1 })
            defer { server.terminate() }
            let events = try await db.count("SELECT count(*) FROM webhook_events") + 1
            // The fast receiver gets every event while the slow one is still on its first.
            let fast = await Self.waitFor(30) { receiver.requests.filter { $0["path"] as? String == "/hook" }.count >= events - 1 }
            #expect(fast, "\(receiver.requests.map { $0["path"] ?? "" }): \(server.log.suffix(1000))")
            let hook = try #require(receiver.requests.first { $0["path"] as? String == "/hook" })
            #expect((hook["headers"] as? [String: String])?["Authorization"]?.hasPrefix("Basic ") == true, "the credentials are sent")
            #expect(await Self.waitFor(30) { receiver.requests.contains { $0["path"] as? String == "/redirect" } })
            #expect(!receiver.requests.contains { $0["path"] as? String == "/stolen" }, "a redirect was followed")
            #expect(
                await Self.waitFor(30) { server.log.contains("a redirect to \(base)/stolen: not followed") },
                "\(server.log.suffix(1000))")
            #expect(try await db.count("SELECT count(*) FROM webhook_deliveries WHERE url = '\(base)/redirect' AND delivered_at IS NOT NULL") == 0)
            #expect(try await db.count("SELECT count(*) FROM webhook_deliveries WHERE url = '\(base)/redirect' AND last_status = 307") >= 1)
            // Stored and logged without the credentials.
            #expect(try await db.count("SELECT count(*) FROM webhook_deliveries WHERE url LIKE '%hunter2%'") == 0)
            #expect(try await db.count("SELECT count(*) FROM webhook_deliveries WHERE url = '\(base)/hook'") >= 1)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE detail::text LIKE '%hunter2%'") == 0)
            #expect(!server.log.contains("hunter2"))
        }
    }
}

/// Floods of refused requests cost one audit row per source and minute, and are rate-limited.
@Suite("Floods of refused requests", .timeLimit(.minutes(8)))
struct RefusalFloodTests {
    @Test("150 requests with a bad token: the first refusal of each minute is audited at once, the rest as one row with their count; past the limit the source is answered 429 without a token lookup")
    func flood() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let server = try await ServerProcess(databaseURL: url, extra: ["--refusals-per-minute", "20"])
            let before = try await db.count("SELECT count(*) FROM audit_log WHERE action = 'request.refused'")
            var statuses: [Int: Int] = [:]
            var retryAfter: String?
            let first = Int(Date().timeIntervalSince1970 / 60)
            for _ in 0..<150 {
                let reply = try await server.call("GET", "/v1/exposures", token: "not-a-token")
                statuses[reply.status, default: 0] += 1
                if reply.status == 429 { retryAfter = reply.headers["retry-after"] }
            }
            // However long the flood took on this machine: at most 20 refusals a minute pass.
            let minutes = Int(Date().timeIntervalSince1970 / 60) - first + 1
            #expect((statuses[401] ?? 0) <= 20 * minutes && (statuses[401] ?? 0) >= 20 && (statuses[429] ?? 0) >= 1, "\(statuses) over \(minutes) minute(s)")
            #expect((statuses[401] ?? 0) + (statuses[429] ?? 0) == 150, "\(statuses)")
            #expect(retryAfter.flatMap(Int.init).map { (1...60).contains($0) } == true, "\(String(describing: retryAfter))")
            #expect(await server.stop() == 0)
            // Each minute: its first refusal written at once, the rest as one row with their count.
            let rows = try await db.count("SELECT count(*) FROM audit_log WHERE action = 'request.refused'") - before
            #expect(rows <= 2 * minutes && rows >= 2, "\(rows) rows for 150 refusals over \(minutes) minute(s)")
            let single = try await db.count("SELECT count(*) FROM audit_log WHERE action = 'request.refused' AND detail->>'aggregated' IS NULL") - before
            let counted = try await db.count(
                "SELECT coalesce(sum((detail->>'refused')::int + (detail->>'rate_limited')::int), 0)::int FROM audit_log WHERE action = 'request.refused' AND detail->>'aggregated' = 'true'")
            #expect(counted + single == 150, "\(counted) counted in aggregates + \(single) written one by one")
        }
    }
}
