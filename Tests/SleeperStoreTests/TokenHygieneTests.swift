import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Sleeper's own NHIs: tokens expire, their use is recorded, they rotate in place, a revocation
/// says why; refused requests and the documents Sleeper makes are audited.
@Suite("API token hygiene and the audit of refusals and documents", .timeLimit(.minutes(8)))
struct TokenHygieneTests {
    @Test("expiry (default 90 days, at most a year), last use, rotation and a revocation reason, on the CLI and over HTTP")
    func tokens() async throws {
        let now = TestClock.environment()
        try await ServerTests.withServer(environment: now) { server, tokens, db in
            let url = TestDatabase.url(for: db.settings)
            func cli(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: now) }

            await #expect(try cli(["token", "create", "--name", "old", "--role", "viewer", "--expires", "2020-01-01"]).stderr.contains("is not in the future"))
            let tooLong = Timestamps.formatDay(TestClock.now.addingTimeInterval(400 * TestClock.day))
            await #expect(try cli(["token", "create", "--name", "forever", "--role", "viewer", "--expires", tooLong]).stderr.contains("at most 366 days"))

            let made = try await cli(["token", "create", "--name", "ci", "--role", "editor"])
            #expect(made.status == 0, "\(made.stderr)")
            let token = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let listed = try await cli(["token", "list", "--format", "json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            let ci = try #require(rows.first { $0["name"] as? String == "ci" })
            let expires = try #require(Timestamps.parse(ci["expires_at"] as? String ?? ""))
            #expect(abs(expires.timeIntervalSince(TestClock.now) - 90 * TestClock.day) < 120, "90 days from the clock's now")
            #expect(ci["last_used_at"] is NSNull)

            #expect(try await server.call("GET", "/v1/frameworks", token: token).status == 200)
            #expect(try await db.count("SELECT count(*) FROM api_tokens WHERE name = 'ci' AND last_used_at IS NOT NULL") == 1)

            // Rotation: the old secret stops at once, the new one works, same name and role.
            let rotated = try await cli(["token", "rotate", "ci"])
            #expect(rotated.status == 0, "\(rotated.stderr)")
            let fresh = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(fresh != token)
            #expect(try await server.call("GET", "/v1/frameworks", token: token).status == 401)
            #expect(try await server.call("GET", "/v1/frameworks", token: fresh).status == 200)
            let overHTTP = try await server.call("POST", "/v1/tokens/ci/rotate", token: tokens.admin)
            #expect(overHTTP.status == 201, "\(overHTTP.body)")
            #expect(try await server.call("GET", "/v1/frameworks", token: fresh).status == 401)

            // Revocation needs a reason, and keeps it.
            await #expect(try cli(["token", "revoke", "ci"]).status != 0)
            #expect(try await server.call("DELETE", "/v1/tokens/ci", token: tokens.admin).status == 400)
            let revoked = try await cli(["token", "revoke", "ci", "--reason", "pipeline retired"])
            #expect(revoked.status == 0, "\(revoked.stderr)")
            #expect(try await db.count("SELECT count(*) FROM api_tokens WHERE name = 'ci' AND revoke_reason = 'pipeline retired'") == 1)
            let newest = try #require((overHTTP.json as? [String: Any])?["token"] as? String)
            let refused = try await server.call("GET", "/v1/frameworks", token: newest)
            #expect(refused.status == 401)
            #expect(refused.body.contains("token_revoked"))
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action IN ('token.rotate', 'token.revoke') AND target = 'ci'") == 3)
        }
    }

    @Test("an expired token is refused with 401 token_expired")
    func expiredTokens() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let soon = Timestamps.format(TestClock.now.addingTimeInterval(3 * TestClock.day))
            let made = try await Fixtures.sleeper(
                ["token", "create", "--name", "short", "--role", "viewer", "--expires", soon, "--database-url", url],
                environment: TestClock.environment())
            #expect(made.status == 0, "\(made.stderr)")
            let token = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let server = try await ServerProcess(databaseURL: url, environment: TestClock.environment(TestClock.now.addingTimeInterval(4 * TestClock.day)))
            defer { server.terminate() }
            let reply = try await server.call("GET", "/v1/frameworks", token: token)
            #expect(reply.status == 401)
            #expect(reply.body.contains("token_expired"), "\(reply.body)")
        }
    }

    @Test("refused requests (401, 403), exports, reports and key creation are audited, never with the token")
    func auditedEvents() async throws {
        try await ServerTests.withServer { server, tokens, db in
            let url = TestDatabase.url(for: db.settings)
            #expect(try await server.call("GET", "/v1/exposures").status == 401)
            let bogus = "slp_000000000000_" + String(repeating: "B", count: 43)
            #expect(try await server.call("GET", "/v1/exposures", token: bogus).status == 401)
            #expect(try await server.call("POST", "/v1/scores", token: tokens.viewer).status == 403)
            #expect(try await server.call("GET", "/v1/exports/json", token: tokens.viewer).status == 200)
            _ = try await Fixtures.sleeper(["export", "oscal-ar", "--database-url", url])
            _ = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url])
            let key = try ExportStoreTests.scratch().appending(path: "k.ed25519").path
            #expect(try await Fixtures.sleeper(["keys", "create", "--out", key, "--database-url", url]).status == 0)

            let audit = try await Fixtures.sleeper(["audit", "--format", "csv", "--database-url", url])
            #expect(audit.stdout.contains("anonymous,request.refused,GET /v1/exposures"), "\(audit.stdout)")
            #expect(audit.stdout.contains("token:dash,request.refused,POST /v1/scores"))
            #expect(audit.stdout.contains("token:dash,export.json"))
            #expect(audit.stdout.contains(",export.oscal-ar,"))
            #expect(audit.stdout.contains(",report.markdown,"))
            #expect(audit.stdout.contains(",key.create,ed25519:"))
            #expect(!audit.stdout.contains(bogus) && !audit.stdout.contains("BBBBBBBB"))
        }
    }
}
