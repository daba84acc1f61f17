import Foundation
import SleeperCore
import SleeperStore
import Testing

/// What a source (or a person) says of a credential's state counts: a disabled, revoked or expired
/// credential is kept, scores 0 for that reason, and says so in `score`, `explain` and the diff.
@Suite("A credential that is not live", .timeLimit(.minutes(8)))
struct CredentialStateTests {
    static let estate = """
        resources: [{key: ledger, tier: 0}]
        models: [{key: ledger-llm, third_party: true}]
        agents: [{key: ledger-bot, input_trust: untrusted, uses_models: [ledger-llm], holds: [{credential: ledger-key, delivery: runtime_env}]}]
        credentials: [{key: ledger-key, kind: api_key, owner: finance, grants: [{resource: ledger, action: write}]}]
        """

    @Test("revoked: score 0, explain says not live, the diff says why; active again: the score comes back")
    func revokedScoresZero() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let (dir, _) = try await ExportStoreTests.imported(Self.estate, url: url, environment: env)
            defer { try? FileManager.default.removeItem(at: dir) }
            let live = try await RuntimeObservationTests.score("ledger-key", url)
            #expect(live > 20, "\(live)")
            let revoke = dir.appending(path: "revoke.yaml")
            try Data("credentials: [{key: ledger-key, state: revoked}]".utf8).write(to: revoke)
            let run = try await Fixtures.sleeper(["import", revoke.path, "--database-url", url], environment: env)
            #expect(run.status == 0 && run.stdout.contains("changed credential:ledger-key: state active → revoked"), "\(run.stdout) \(run.stderr)")
            await #expect(try RuntimeObservationTests.score("ledger-key", url) == 0)
            let explain = try await Fixtures.sleeper(["explain", "credential:ledger-key", "--database-url", url], environment: env)
            #expect(explain.stdout.contains("not live: its source says it is disabled, revoked or expired"), "\(explain.stdout)")
            let json = try await Fixtures.sleeper(["explain", "credential:ledger-key", "--format", "json", "--database-url", url], environment: env)
            #expect(json.stdout.contains("\"unreached\": \"not live\""), "\(json.stdout)")
            let diff = try await Fixtures.sleeper(["exposure", "diff", "--since", "1", "--database-url", url], environment: env)
            #expect(diff.stdout.contains("not live any more: disabled, revoked or expired at its source"), "\(diff.stdout)")
            let listed = try await Fixtures.sleeper(["exposure", "--database-url", url], environment: env)
            #expect(listed.stderr.contains("1 credential(s) score 0 because they are not live"), "\(listed.stderr)")
            #expect(listed.stdout.contains("not live: disabled, revoked or expired at its source"), "the main factor says why: \(listed.stdout)")
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = 'ledger-key' AND state = 'revoked'") == 1)

            try Data("credentials: [{key: ledger-key, state: active}]".utf8).write(to: revoke)
            #expect(try await Fixtures.sleeper(["import", revoke.path, "--database-url", url], environment: env).status == 0)
            await #expect(try RuntimeObservationTests.score("ledger-key", url) == live)
        }
    }

    @Test("a recall's rotation action closes when the credential's source says it is disabled")
    func disablingClosesRotation() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let (dir, _) = try await ExportStoreTests.imported(Self.estate, url: url, environment: env)
            defer { try? FileManager.default.removeItem(at: dir) }
            let recall = try await Fixtures.sleeper(["recall", "model:ledger-llm", "--reason", "trigger found", "--database-url", url], environment: env)
            #expect(recall.status == 0, "\(recall.stderr)")
            #expect(try await db.count("SELECT count(*) FROM remediation_actions WHERE subject_kind = 'credential' AND subject_key = 'ledger-key' AND status = 'open'") == 1)
            let off = dir.appending(path: "off.yaml")
            try Data("credentials: [{key: ledger-key, state: disabled}]".utf8).write(to: off)
            #expect(try await Fixtures.sleeper(["import", off.path, "--database-url", url], environment: env).status == 0)
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM remediation_actions WHERE subject_key = 'ledger-key' AND status = 'done' AND closed_because = 'not live: disabled at its source (inventory)'
                    """) == 1)
        }
    }
}
