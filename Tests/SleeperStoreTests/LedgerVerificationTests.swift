import Foundation
import PostgresNIO
import SleeperCore
import SleeperStore
import Testing

/// Nothing is reported, exported or signed over a ledger that does not verify, and `verify`
/// closes the blind spots of a re-hash of decoded records.
@Suite("Ledger verification before reports and exports", .timeLimit(.minutes(8)))
struct LedgerVerificationTests {
    /// Runs SQL with the append-only triggers out of the way, as a forger with the table owner's rights would.
    static func forge(_ db: Database, table: String = "evidence", _ sql: String) async throws {
        try await db.client.withConnection { c in
            for statement in ["ALTER TABLE \(table) DISABLE TRIGGER USER", sql, "ALTER TABLE \(table) ENABLE TRIGGER USER"] {
                try await c.query(PostgresQuery(unsafeSQL: statement), logger: db.logger)
            }
        }
    }

    /// A fresh failed scan, verified (so the checkpoint lies beyond it), then forged into a pass.
    static func withForgedRecord(_ body: (Database, String, Int) async throws -> Void) async throws {
        try await ExportStoreTests.withEstate { db, url in
            let add = try await Fixtures.sleeper([
                "evidence", "add", "--subject", "model:code-review-ft", "--control", "SLP-BACKDOOR-SCAN",
                "--result", "fail", "--database-url", url,
            ])
            try #require(add.status == 0, "\(add.stderr)")
            let id = try await db.count("SELECT max(id) FROM evidence")
            let verified = try await Fixtures.sleeper(["verify", "--database-url", url])
            try #require(verified.status == 0, "\(verified.stderr)")
            try await forge(db, "UPDATE evidence SET result = 'pass' WHERE id = \(id)")
            try await body(db, url, id)
        }
    }

    @Test("a forged pass behind the verified head: report, every export and a bundle are refused; --allow-unverified marks and never signs")
    func forgedRecordRefused() async throws {
        try await Self.withForgedRecord { db, url, id in
            let verify = try await Fixtures.sleeper(["verify", "--database-url", url])
            #expect(verify.status == 1)
            #expect(verify.stderr.contains("evidence record \(id): its content does not match its hash"), "\(verify.stderr)")
            let report = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url])
            #expect(report.status == 1)
            #expect(report.stderr.contains("the ledgers do not verify"), "\(report.stderr)")
            #expect(report.stdout.isEmpty)
            for format in ["oscal-ar", "oscal-poam", "csv", "json"] {
                let export = try await Fixtures.sleeper(["export", format, "--database-url", url])
                #expect(export.status == 1, "\(format)")
                #expect(export.stderr.contains("evidence record \(id)"), "\(format): \(export.stderr)")
            }
            let dir = try ExportStoreTests.scratch()
            let key = dir.appending(path: "k.ed25519").path
            _ = try await Fixtures.sleeper(["keys", "create", "--out", key, "--database-url", url])
            let bundle = try await Fixtures.sleeper(["export", "oscal-ar", "--bundle", dir.appending(path: "b").path, "--key", key, "--database-url", url])
            #expect(bundle.status == 1)
            #expect(!FileManager.default.fileExists(atPath: dir.appending(path: "b/manifest.sig").path))
            let unsigned = try await Fixtures.sleeper([
                "export", "oscal-ar", "--allow-unverified", "--bundle", dir.appending(path: "c").path,
                "--key", key, "--database-url", url,
            ])
            #expect(unsigned.status == 1)
            #expect(unsigned.stderr.contains("never signed"))

            let marked = try await Fixtures.sleeper(["report", "--what-if", "0", "--allow-unverified", "--database-url", url])
            #expect(marked.status == 0, "\(marked.stderr)")
            let sections = marked.stdout.components(separatedBy: "\n## ").dropFirst()
            #expect(sections.count >= 5)
            for section in sections { #expect(section.contains("**UNVERIFIED: the evidence ledger did not verify"), "\(section.prefix(80))") }
            let oscal = try await Fixtures.sleeper(["export", "oscal-ar", "--allow-unverified", "--database-url", url])
            #expect(oscal.status == 0)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(oscal.stdout.utf8)) as? [String: Any])
            let metadata = try #require((doc["assessment-results"] as? [String: Any])?["metadata"] as? [String: Any])
            #expect((metadata["remarks"] as? String)?.hasPrefix("UNVERIFIED") == true)
            let file = dir.appending(path: "ar.json")
            try Data(oscal.stdout.utf8).write(to: file)
            await #expect(try ExportStoreTests.validate([file]).ok, "the marked document still validates")

            let server = try await ServerProcess(databaseURL: url)
            defer { server.terminate() }
            let token = try await TokenStore(db).create(name: "dash", role: .viewer, by: "test")
            let refused = try await server.call("GET", "/v1/exports/oscal-ar", token: token)
            #expect(refused.status == 409, "\(refused.body)")
            #expect(refused.body.contains("ledger_unverified"))
        }
    }

    @Test("verify catches times shifted under a second, extra artifact keys, a disabled trigger and an edited audit entry")
    func blindSpots() async throws {
        try await ExportStoreTests.withEstate { db, url in
            func problems() async throws -> String {
                let run = try await Fixtures.sleeper(["verify", "--database-url", url])
                return run.status == 0 ? "" : run.stderr
            }
            await #expect(try problems().isEmpty)
            try await Self.forge(db, "UPDATE evidence SET recorded_at = recorded_at + interval '0.4 seconds' WHERE id = 2")
            await #expect(try problems().contains("evidence record 2: a stored time is not the whole second its hash covers"))
            try await Self.forge(db, "UPDATE evidence SET recorded_at = date_trunc('second', recorded_at) WHERE id = 2")
            await #expect(try problems().isEmpty, "restored")

            try await Self.forge(db, #"UPDATE evidence SET artifacts = artifacts || '[{"name": "x"}]'::jsonb WHERE id = 1"#)
            await #expect(try problems().contains("evidence record 1: its artifacts are not in canonical form"))
            try await Self.forge(db, "UPDATE evidence SET artifacts = artifacts - (jsonb_array_length(artifacts) - 1) WHERE id = 1")
            await #expect(try problems().isEmpty, "restored")

            #expect(try await Fixtures.sleeper(["db", "status", "--database-url", url]).stdout.contains("ledgers:   append-only triggers in place"))
            try await db.client.query("ALTER TABLE evidence DISABLE TRIGGER evidence_append_only", logger: db.logger)
            await #expect(try problems().contains("the trigger evidence_append_only on evidence is disabled"))
            let status = try await Fixtures.sleeper(["db", "status", "--database-url", url])
            #expect(status.status == 1)
            #expect(status.stderr.contains("the trigger evidence_append_only on evidence is disabled"), "\(status.stderr)")
            try await db.client.query("ALTER TABLE evidence ENABLE TRIGGER evidence_append_only", logger: db.logger)

            try await Self.forge(db, table: "audit_log", "UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 1")
            await #expect(try problems().contains("audit entry 1: its content does not match its hash"))
        }
    }
}
