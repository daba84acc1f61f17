import Foundation
import SleeperCore
import SleeperStore
import Testing

/// The organisation declares its own suppliers and those it allows, in the database, audited:
/// a model of such a supplier is no unapproved third party, and `explain` says why.
@Suite("Suppliers the organisation declares", .timeLimit(.minutes(8)))
struct SupplierTests {
    static let estate = """
        resources: [{key: crm, tier: 1}]
        models: [{key: acme-ft, supplier: Acme ML Platform, third_party: true, digest: "sha256:\(String(repeating: "7", count: 64))", signed: true,
                  serialization: safetensors, lineage_verified: true}]
        agents: [{key: crm-bot, input_trust: untrusted, uses_models: [acme-ft], holds: [{credential: crm-key, delivery: runtime_env}]}]
        credentials: [{key: crm-key, kind: api_key, owner: sales, grants: [{resource: crm, action: write}]}]
        """

    @Test("declared own: the third-party term goes, explain names the declaration, the audit log has it; withdrawn: the score comes back")
    func declareOwn() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let (dir, _) = try await ExportStoreTests.imported(Self.estate, url: url, environment: env)
            defer { try? FileManager.default.removeItem(at: dir) }
            func explain() async throws -> String { try await Fixtures.sleeper(["explain", "credential:crm-key", "--database-url", url], environment: env).stdout }
            let before = try await RuntimeObservationTests.score("crm-key", url)
            await #expect(try explain().contains("third_party_not_allowed"))
            let declared = try await Fixtures.sleeper(
                [
                    "suppliers", "declare", "acme ml platform", "--own", "--by", "ciso", "--reason", "our ML platform team",
                    "--database-url", url,
                ], environment: env)
            #expect(
                declared.status == 0 && declared.stdout.contains("declared acme ml platform: own") && declared.stdout.contains("rescored"),
                "\(declared.stdout) \(declared.stderr)")
            let after = try await RuntimeObservationTests.score("crm-key", url)
            #expect(after < before, "\(before) → \(after)")
            let explained = try await explain()
            #expect(!explained.contains("third_party_not_allowed = "), "\(explained)")
            #expect(explained.contains("supplier Acme ML Platform: the organisation's own (sleeper suppliers, declared by ciso)"), "\(explained)")
            let listed = try await Fixtures.sleeper(["suppliers", "--format", "json", "--database-url", url], environment: env)
            #expect(listed.stdout.contains("\"relation\": \"own\"") && listed.stdout.contains("\"declared_by\": \"ciso\""), "\(listed.stdout)")
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'suppliers.declare' AND target = 'acme ml platform'") == 1)
            // Neither or both of --own and --allowed: refused.
            #expect(try await Fixtures.sleeper(["suppliers", "declare", "x", "--by", "a", "--reason", "b", "--database-url", url], environment: env).status != 0)

            let withdrawn = try await Fixtures.sleeper(["suppliers", "withdraw", "ACME ML PLATFORM", "--by", "ciso", "--reason", "platform sold", "--database-url", url], environment: env)
            #expect(withdrawn.status == 0, "\(withdrawn.stderr)")
            await #expect(try RuntimeObservationTests.score("crm-key", url) == before)
            let missing = try await Fixtures.sleeper(["suppliers", "withdraw", "nobody", "--by", "ciso", "--reason", "x", "--database-url", url], environment: env)
            #expect(missing.status != 0 && missing.stderr.contains("no supplier 'nobody' is declared"), "\(missing.stderr)")
        }
    }

    @Test("over HTTP: an admin declares (201, rescored), a viewer lists and may not declare, unknown fields are refused by name")
    func overHTTP() async throws {
        try await ServerTests.withServer(environment: TestClock.environment()) { server, tokens, db in
            let body = Data(#"{"name": "acme-ai", "relation": "allowed", "by": "vendor-board", "reason": "contract 2026-114"}"#.utf8)
            #expect(try await server.call("POST", "/v1/suppliers", token: tokens.viewer, body: body).status == 403)
            let made = try await server.call("POST", "/v1/suppliers", token: tokens.admin, body: body)
            #expect(made.status == 201, "\(made.body)")
            #expect(made.body.contains("\"rescore\""), "the models of acme-ai were rescored: \(made.body)")
            let listed = try await server.call("GET", "/v1/suppliers", token: tokens.viewer)
            #expect(listed.status == 200 && listed.body.contains("\"acme-ai\"") && listed.body.contains("\"allowed\""), "\(listed.body)")
            let odd = try await server.call(
                "POST", "/v1/suppliers", token: tokens.admin,
                body: Data(#"{"name": "x", "relation": "allowed", "by": "a", "reason": "b", "colour": "red"}"#.utf8))
            #expect(odd.status == 400 && odd.body.contains("colour"), "\(odd.body)")
            let gone = try await server.call("DELETE", "/v1/suppliers/acme-ai?by=vendor-board&reason=contract%20ended", token: tokens.admin)
            #expect(gone.status == 204, "\(gone.body)")
            #expect(try await db.count("SELECT count(*) FROM organisation_suppliers") == 0)
        }
    }
}
