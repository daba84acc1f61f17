import Foundation
import PostgresNIO
import SleeperCore
import SleeperStore
import Testing

/// Every record a document depends on verifies, with the chain's continuity; a verified head
/// never moves backwards; the guarding functions are what the migrations declare.
@Suite("Tampering behind the verified head", .timeLimit(.minutes(8)))
struct LedgerTamperTests {
    static let forge = LedgerVerificationTests.forge

    /// Three records (a fail on code-review-ft between two others), verified, so that the
    /// checkpoint lies beyond all three; then `tamper` with their ids.
    static func withLedger(_ tamper: (Database, [Int]) async throws -> Void, _ check: (Database, String) async throws -> Void) async throws {
        try await ExportStoreTests.withEstate { db, url in
            for (model, result) in [("ops-agent-model", "pass"), ("code-review-ft", "fail"), ("sales-merge", "pass")] {
                let add = try await Fixtures.sleeper([
                    "evidence", "add", "--subject", "model:\(model)", "--control", "SLP-BACKDOOR-SCAN",
                    "--result", result, "--database-url", url,
                ])
                try #require(add.status == 0, "\(add.stderr)")
            }
            let top = try await db.count("SELECT max(id) FROM evidence")
            try #require(try await Fixtures.sleeper(["verify", "--database-url", url]).status == 0)
            try await tamper(db, [top - 2, top - 1, top])
            try await check(db, url)
        }
    }

    /// Report, export json and a signed bundle are all refused, naming the problem.
    static func expectDocumentsRefused(_ url: String, mentioning: String, _ what: String) async throws {
        let report = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url])
        #expect(report.status == 1 && report.stderr.contains("the ledgers do not verify"), "\(what): report \(report.status) \(report.stderr)")
        #expect(report.stderr.contains(mentioning), "\(what): \(report.stderr)")
        let export = try await Fixtures.sleeper(["export", "json", "--database-url", url])
        #expect(export.status == 1, "\(what): export json \(export.status)")
        let dir = try ExportStoreTests.scratch()
        let key = dir.appending(path: "k.ed25519").path
        _ = try await Fixtures.sleeper(["keys", "create", "--out", key, "--database-url", url])
        let bundle = try await Fixtures.sleeper(["export", "oscal-ar", "--bundle", dir.appending(path: "b").path, "--key", key, "--database-url", url])
        #expect(bundle.status == 1, "\(what): bundle \(bundle.status)")
        #expect(!FileManager.default.fileExists(atPath: dir.appending(path: "b/manifest.sig").path), "\(what): signed")
    }

    @Test("the failed record deleted, flipped to a pass with its successor's link re-hashed, a middle record deleted, a superseded record edited: report, export and bundle all refuse")
    func fourTamperings() async throws {
        // Deleted outright.
        try await Self.withLedger({ db, ids in try await Self.forge(db, "evidence", "DELETE FROM evidence WHERE id = \(ids[1])") }) { _, url in
            try await Self.expectDocumentsRefused(url, mentioning: "evidence record", "the failed record deleted")
        }
        // Flipped and re-hashed, the successor's link rewritten: the head is unchanged.
        try await Self.withLedger({ db, ids in
            let record = try #require(try await EvidenceLedger(db).all(ids: [ids[1]]).first)
            var flipped = record
            flipped.result = .pass
            let hash = flipped.computedHash
            try await Self.forge(db, "evidence", "UPDATE evidence SET result = 'pass', hash = '\(hash)' WHERE id = \(ids[1])")
            try await Self.forge(db, "evidence", "UPDATE evidence SET prev_hash = '\(hash)' WHERE id = \(ids[2])")
        }) { _, url in
            try await Self.expectDocumentsRefused(url, mentioning: "evidence record", "flipped and re-linked")
        }
        // A middle record deleted and the ids closed up behind it.
        try await Self.withLedger({ db, ids in try await Self.forge(db, "evidence", "DELETE FROM evidence WHERE id = \(ids[0])") }) { _, url in
            try await Self.expectDocumentsRefused(url, mentioning: "evidence record", "a middle record deleted")
        }
        // A superseded record edited (its successor says it no longer stands).
        try await ExportStoreTests.withEstate { db, url in
            let add = try await Fixtures.sleeper(["evidence", "add", "--subject", "model:code-review-ft", "--control", "SLP-BACKDOOR-SCAN", "--result", "fail", "--database-url", url])
            try #require(add.status == 0)
            let first = try await db.count("SELECT max(id) FROM evidence")
            let withdraw = try await Fixtures.sleeper(["evidence", "withdraw", String(first), "--by", "qa", "--note", "rerun", "--database-url", url])
            try #require(withdraw.status == 0, "\(withdraw.stderr)")
            try #require(try await Fixtures.sleeper(["verify", "--database-url", url]).status == 0)
            try await Self.forge(db, "evidence", "UPDATE evidence SET note = 'never failed' WHERE id = \(first)")
            try await Self.expectDocumentsRefused(url, mentioning: "evidence record \(first)", "a superseded record edited")
        }
    }

    @Test("a verified head never moves backwards: a trailing record deleted or the chain re-hashed stays an error through verify, until an admin acknowledges it, audited; kept heads are checked")
    func checkpointNeverBackwards() async throws {
        try await Self.withLedger({ db, ids in try await Self.forge(db, "evidence", "DELETE FROM evidence WHERE id = \(ids[2])") }) { db, url in
            let printed = try await Fixtures.sleeper(["verify", "--database-url", url])
            #expect(printed.status == 1)
            #expect(printed.stderr.contains("verified earlier, now missing (the ledger shrank)"), "\(printed.stderr)")
            // Three full checks later it is still an error, and documents are still refused.
            for _ in 0..<3 { #expect(try await Fixtures.sleeper(["verify", "--database-url", url]).status == 1) }
            try await Self.expectDocumentsRefused(url, mentioning: "now missing", "a trailing record deleted")
            let acknowledged = try await Fixtures.sleeper(["verify", "--acknowledge", "restored from last night's backup", "--database-url", url])
            #expect(acknowledged.status == 0, "\(acknowledged.stderr)")
            #expect(acknowledged.stdout.contains("acknowledged (audited)"))
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'ledger.acknowledge'") == 1)
            let report = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url])
            #expect(report.status == 0, "\(report.stderr)")

            // Heads printed, kept, and checked later.
            let ok = try await Fixtures.sleeper(["verify", "--database-url", url])
            let evidenceHead = try #require(ok.stdout.firstMatch(of: /evidence ledger verifies: \d+ records, head (\d+:[0-9a-f]{64})/)?.1)
            let auditHead = try #require(ok.stdout.firstMatch(of: /audit log verifies: \d+ entries, head (\d+:[0-9a-f]{64})/)?.1)
            #expect(try await Fixtures.sleeper(["verify", "--expect-head", String(evidenceHead), "--expect-audit-head", String(auditHead), "--database-url", url]).status == 0)
            let id = try #require(Int(evidenceHead.split(separator: ":")[0]))
            try await Self.forge(db, "evidence", "UPDATE evidence SET note = 'rewritten' WHERE id = \(id)")
            let rewritten = try await Fixtures.sleeper(["verify", "--expect-head", String(evidenceHead), "--database-url", url])
            #expect(rewritten.status == 1)
        }
    }

    @Test("a guarding function replaced by a no-op, or the audit log re-chained with a replaced hash function: verify fails naming the function")
    func replacedFunctions() async throws {
        try await ExportStoreTests.withEstate { db, url in
            try #require(try await Fixtures.sleeper(["verify", "--database-url", url]).status == 0)
            try await db.client.query("CREATE OR REPLACE FUNCTION refuse_evidence_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$", logger: db.logger)
            let noop = try await Fixtures.sleeper(["verify", "--database-url", url])
            #expect(noop.status == 1)
            #expect(noop.stderr.contains("the function refuse_evidence_change is not what the migrations declare"), "\(noop.stderr)")
        }
        try await ExportStoreTests.withEstate { db, url in
            try #require(try await Fixtures.sleeper(["verify", "--database-url", url]).status == 0)
            // A forger's hash function, and the whole log re-chained with it.
            try await db.client.query(
                """
                CREATE OR REPLACE FUNCTION audit_hash(seq bigint, at timestamptz, actor text, action text, target text, detail jsonb, prev text)
                RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT md5(seq::text) || md5(prev) $$
                """, logger: db.logger)
            try await Self.forge(db, "audit_log", "UPDATE audit_log SET detail = '{}'::jsonb, hash = md5(seq::text) || md5(prev_hash)")
            let rechained = try await Fixtures.sleeper(["verify", "--database-url", url])
            #expect(rechained.status == 1)
            #expect(rechained.stderr.contains("the function audit_hash is not what the migrations declare"), "\(rechained.stderr)")
        }
    }

    @Test("the guarding functions of a freshly migrated database are exactly the migrations' declarations")
    func declaredFunctionsMatch() async throws {
        try await TestDatabase.withFresh { db in
            let declared = LedgerVerifier.declaredFunctions()
            #expect(declared.count == 4, "\(declared.keys.sorted())")
            let problems = try await LedgerVerifier(db).functionProblems()
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
