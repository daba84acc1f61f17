import Foundation
import PostgresNIO
import SleeperCore
import SleeperStore
import Testing

@Suite("Scoring against the database", .timeLimit(.minutes(8)))
struct ScoringStoreTests {
    /// The design's worked example as an inventory file: L0 0.58, parent L* 0.10, score 69. Its
    /// dates are written for 2026-11-25 and shifted to the tests' clock (`TestClock`).
    static let workedExample = TestClock.shifted(workedExampleAsWritten, from: "2026-11-25")
    static let workedExampleAsWritten = """
        models:
          - {key: vendor-base, supplier: vendor, third_party: false, lineage_verified: true, training_data_declared: true,
             digest: "sha256:1111", signed: false, serialization: safetensors}
          - {key: acme-ft, supplier: acme-ai, third_party: true, lineage_verified: false, training_data_declared: false,
             digest: "sha256:2222", signed: true, serialization: safetensors, derived_from: [{model: vendor-base, relation: finetune}]}
        agents:
          - {key: email-triage, owner: support, input_trust: untrusted, uses_models: [acme-ft],
             holds: [{credential: payments-key, delivery: runtime_env}]}
        credentials:
          - {key: payments-key, kind: api_key, owner: payments, created_at: 2025-01-01, last_rotated_at: "2026-05-09",
             last_used_at: 2026-11-24, grants: [{resource: payments-api, action: write}]}
          - {key: docs-token, kind: api_key, owner: docs, created_at: 2026-10-01, last_used_at: 2026-11-24, expires_at: 2027-10-01,
             grants: [{resource: docs, action: write}]}
        resources: [{key: payments-api, tier: 0}, {key: docs, tier: 3}]
        """
    static let asOf = TestClock.now

    static func withExample<T: Sendable>(_ body: (Database) async throws -> T) async throws -> T {
        try await TestDatabase.withFresh { db in
            _ = try await CatalogStore(db).syncBundled()
            _ = try await InventoryImporter(db).importFiles([try Fixtures.parse(workedExample)])
            return try await body(db)
        }
    }

    @Test("ids too large to pack an edge into one integer are read column by column, with the same scores")
    func largeIDs() async throws {
        func everything(_ db: Database, asOf: Date) async throws -> [Exposure] {
            let run = try await ScoreRuns(db).run(asOf: asOf, weights: try ScoreRuns.bundledWeights())
            return try await ScoreRuns(db).exposures(run: run.id, top: nil, band: nil, minScore: nil, owner: nil, resource: nil)
        }
        let small = try await ExportStoreTests.withEstate { db, _ in try await everything(db, asOf: Self.asOf) }
        let large = try await TestDatabase.withFresh { db in
            for table in ["credentials", "agents", "resources", "models", "datasets"] {
                try await db.client.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(table) ALTER COLUMN id RESTART WITH 3000000000"), logger: db.logger)
            }
            _ = try await CatalogStore(db).syncBundled()
            let url = TestDatabase.url(for: db.settings)
            for args in [
                ["import", ExportStoreTests.examples.appending(path: "inventory.yaml").path],
                ["evidence", "import", ExportStoreTests.examples.appending(path: "evidence.yaml").path],
            ] {
                let run = try await Fixtures.sleeper(args + ["--database-url", url])
                try #require(run.status == 0, "\(args): \(run.stderr)")
            }
            #expect(try await db.count("SELECT min(id) FROM credentials") >= 3_000_000_000)
            return try await everything(db, asOf: Self.asOf)
        }
        #expect(small.count > 5)
        // Ties are listed by id, which differs here only in offset, not in order.
        #expect(large == small)
    }

    @Test("a run stores every credential's score with its compact explanation")
    func run() async throws {
        try await Self.withExample { db in
            let run = try await ScoreRuns(db).run(asOf: Self.asOf, weights: try ScoreRuns.bundledWeights())
            #expect(run.credentials == 2)
            #expect(run.bands == [.critical: 1, .low: 1])
            let rows = try await ScoreRuns(db).exposures(run: run.id, top: nil, band: nil, minScore: nil, owner: nil, resource: nil)
            #expect(rows.map(\.credential) == ["payments-key", "docs-token"])
            #expect(rows[0].score == 69)
            #expect(rows[0].path == ["acme-ft", "email-triage", "payments-key", "payments-api"])
            #expect(rows[0].mainFactor == "third party not allowed on acme-ft")
            #expect(rows[1].score == 0)
            // The compact explanation: plain columns, and each model's main factor once per run.
            #expect(try await db.count("SELECT count(*) FROM credential_scores WHERE explanation IS NOT NULL") == 0)
            #expect(try await db.count("SELECT count(*) FROM score_run_models WHERE run_id = \(run.id)") == (try await db.count("SELECT count(*) FROM models")))
            let filtered = try await ScoreRuns(db).exposures(run: run.id, top: 5, band: .critical, minScore: 60, owner: "payments", resource: "payments-api")
            #expect(filtered.map(\.credential) == ["payments-key"])
            #expect(try await ScoreRuns(db).exposures(run: run.id, top: nil, band: .high, minScore: nil, owner: nil, resource: nil).isEmpty)
        }
    }

    @Test("evidence from the ledger lowers the score; a failed scan raises it; grace counts in part")
    func evidenceDrivesScores() async throws {
        try await Self.withExample { db in
            let weights = try ScoreRuns.bundledWeights()
            func score(_ asOf: Date = Self.asOf) async throws -> Int {
                let run = try await ScoreRuns(db).run(asOf: asOf, weights: weights)
                return try await ScoreRuns(db).exposures(run: run.id, top: 1, band: nil, minScore: nil, owner: nil, resource: nil)[0].score
            }
            // Rotation age grows with time; ages are judged at the as-of date.
            let base = try await score()
            let ledger = EvidenceLedger(db)
            _ = try await ledger.record([EvidenceDraft(subject: Subject("agent:email-triage")!, control: "SLP-HITL", result: .pass)])
            let withReview = try await score()
            #expect(withReview < base)
            // A = 0.6094 · 0.4 → score = 100 · 0.24376 · 0.9 · 1.25 = 27.4 → 27
            #expect(withReview == 27)
            _ = try await ledger.record([EvidenceDraft(subject: Subject("model:acme-ft")!, control: "SLP-BACKDOOR-SCAN", result: .fail)])
            let withFailedScan = try await score()
            // L = 0.9; L* = 1 − 0.1 · 0.93 = 0.907; A = 0.3628; score = 100 · 0.3628 · 0.9 · 1.25 = 40.8 → 41
            #expect(withFailedScan == 41)
            // HITL evidence (180 days) expires; 15 days into its 30-day grace it counts half.
            // Relative to when the record was made (the database's real clock), not to the pinned clock.
            let inGrace = Date().addingTimeInterval((180 + 15) * 86400)
            let graceScore = try await score(inGrace)
            // The failed scan still stands (a failure holds until a new pass). A = 0.907 · (1 − 0.6 · 0.5) = 0.6349;
            // the key is now also unused for over 90 days: H = 1.35. Score = 100 · 0.6349 · 0.9 · 1.35 = 77.1 → 77
            #expect(graceScore == 77)
        }
    }

    @Test("sleeper score, exposure and explain on the command line; explain's JSON has the documented fields")
    func commandLine() async throws {
        try await Self.withExample { db in
            let url = TestDatabase.url(for: db.settings)
            let scored = try await Fixtures.sleeper(["score", "--database-url", url], environment: TestClock.environment())
            #expect(scored.status == 0, "\(scored.stderr)")
            #expect(scored.stdout.contains("scored 2 credentials"))
            #expect(scored.stdout.contains("1 critical, 0 high, 0 medium, 1 low"))
            let exposure = try await Fixtures.sleeper(["exposure", "--top", "1", "--database-url", url], environment: TestClock.environment())
            #expect(exposure.stdout.contains("payments-key  69     0.6856  critical  acme-ft → email-triage → payments-key → payments-api"))
            let json = try await Fixtures.sleeper(["explain", "credential:payments-key", "--format", "json", "--database-url", url], environment: TestClock.environment())
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            for field in ["subject", "score", "raw", "band", "p", "impact", "hygiene", "factors", "paths", "what_if"] {
                #expect(object[field] != nil, "missing \(field)")
            }
            #expect(object["score"] as? Int == 69)
            let whatIf = try #require(object["what_if"] as? [[String: Any]])
            #expect(whatIf.first?["control"] as? String == "SLP-HITL")
            #expect(whatIf.first?["score_after"] as? Int == 27)
            let text = try await Fixtures.sleeper(["explain", "credential:payments-key", "--database-url", url], environment: TestClock.environment())
            #expect(text.stdout.contains("owasp-agentic:ASI04 (A2)"))
        }
    }

    @Test("exposure diff names what got worse and why; explain model and agent show the blast radius")
    func diffAndBlastRadius() async throws {
        try await Self.withExample { db in
            let url = TestDatabase.url(for: db.settings)
            let dayAfter = TestClock.environment(Self.asOf.addingTimeInterval(TestClock.day))
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: TestClock.environment())
            // A failed backdoor scan on the fine-tune and a leaked key, then score again.
            _ = try await EvidenceLedger(db).record([EvidenceDraft(subject: Subject("model:acme-ft")!, control: "SLP-BACKDOOR-SCAN", result: .fail)])
            _ = try await InventoryImporter(db).importFiles([
                try Fixtures.parse(
                    Self.workedExample.replacingOccurrences(
                        of: "grants: [{resource: payments-api", with: "exposed: true, grants: [{resource: payments-api"))
            ])
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: dayAfter)
            let diff = try await Fixtures.sleeper(["exposure", "diff", "--since", "1", "--format", "csv", "--database-url", url], environment: dayAfter)
            #expect(diff.status == 0, "\(diff.stderr)")
            let line = try #require(diff.stdout.split(separator: "\r\n").first { $0.hasPrefix("payments-key,") })
            // L 0.9 → L* 0.907, H 1.45 clamped to 1.4: 100 · 0.907 · 0.9 · 1.4 = 114 → 100
            #expect(line.hasPrefix("payments-key,69,100,31,"))
            #expect(line.contains("new failed backdoor scan on acme-ft"))
            #expect(line.contains("reported exposed"))
            let model = try await Fixtures.sleeper(["explain", "model:vendor-base", "--database-url", url], environment: dayAfter)
            #expect(model.stdout.contains("models derived from it: acme-ft"))
            #expect(model.stdout.contains("payments-key  100 (critical) via email-triage"))
            let agent = try await Fixtures.sleeper(["explain", "agent:email-triage", "--database-url", url], environment: dayAfter)
            #expect(agent.stdout.contains("blast radius: 1 credential(s)"))
        }
    }

    @Test("a day alone is the start of that day for --since: `exposure diff --since TODAY` compares with the last run before today, not today's with itself")
    func sinceMeansTheStartOfTheDay() async throws {
        try await TestDatabase.withCatalogs { _, url in
            let yesterday = TestClock.now.addingTimeInterval(-TestClock.day + 10 * 3600), today = TestClock.now.addingTimeInterval(10 * 3600)
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: TestClock.environment(yesterday)).status == 0)
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: TestClock.environment(today)).status == 0)
            let diff = try await Fixtures.sleeper(
                ["exposure", "diff", "--since", Timestamps.formatDay(today), "--database-url", url],
                environment: TestClock.environment(today.addingTimeInterval(3600)))
            #expect(diff.status == 0, "\(diff.stderr)")
            #expect(diff.stdout.hasPrefix("from run 1 as of \(Timestamps.format(yesterday))"), "\(diff.stdout)")
        }
    }
}
