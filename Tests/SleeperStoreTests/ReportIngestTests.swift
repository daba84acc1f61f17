import Foundation
import SleeperCore
import SleeperStore
import Testing

/// `sleeper evidence ingest` and `POST /v1/evidence/ingest` end to end: a report becomes one
/// evidence record bound to the bytes it is about, scores move as the new controls say, and bad
/// or mismatched reports write nothing.
@Suite("Ingesting reports of model-testing tools", .timeLimit(.minutes(8)))
struct ReportIngestTests {
    static let reports = Fixtures.packageRoot.appending(path: "Tests/Fixtures/reports")
    /// A day before the real today: the ledger refuses evidence dated more than a day ahead of its clock.
    static let ranAt = TestClock.now.addingTimeInterval(-3 * TestClock.day)

    /// A model of two files on disk, and an inventory whose model has exactly their digest.
    static func estate(_ dir: URL) throws -> (model: URL, digest: String, inventory: URL) {
        let model = dir.appending(path: "scanned-model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let files = ["pytorch_model.bin": Data("weights of the scanned model".utf8), "config.json": Data("{\"architectures\": [\"Llama\"]}".utf8)]
        for (name, data) in files { try data.write(to: model.appending(path: name)) }
        let digest = ModelDigest.of(files: files.mapValues { Artifact.of(name: "", data: $0).sha256 })
        let inventory = dir.appending(path: "inventory.yaml")
        try Data(
            """
            resources: [{key: vault, tier: 0}]
            models:
              - {key: scanned-model, supplier: internal, third_party: false, digest: "\(digest)", signed: true, serialization: pytorch,
                 lineage_verified: true, training_data_declared: true}
              - {key: attested-model, supplier: internal, third_party: false, signed: true, serialization: safetensors,
                 digest: "sha256:3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468", lineage_verified: true, training_data_declared: true}
            agents: [{key: helper, input_trust: untrusted, uses_models: [scanned-model, attested-model], holds: [{credential: helper-key, delivery: runtime_env}]}]
            credentials: [{key: helper-key, kind: api_key, owner: platform, grants: [{resource: vault, action: admin}]}]
            """.utf8
        ).write(to: inventory)
        return (model, digest, inventory)
    }

    /// The modelscan fixture rewritten to have scanned `path` at `ranAt`.
    static func modelscan(_ fixture: String, scanned path: String, into dir: URL) throws -> URL {
        var text = String(decoding: try Data(contentsOf: reports.appending(path: "modelscan/\(fixture)")), as: UTF8.self)
        for old in ["models/acme-support-ft", "downloads/totally-harmless-model"] { text = text.replacingOccurrences(of: "\"\(old)\"", with: "\"\(path)\"") }
        let stamp = String(Timestamps.format(ranAt).dropLast()) + ".481516"
        text = text.replacingOccurrences(of: #""timestamp": "[^"]+""#, with: "\"timestamp\": \"\(stamp)\"", options: .regularExpression)
        let out = dir.appending(path: "modelscan-\(fixture)")
        try Data(text.utf8).write(to: out)
        return out
    }

    static func explain(_ subject: String, _ url: String) async throws -> [String: Any] {
        let run = try await Fixtures.sleeper(["explain", subject, "--format", "json", "--database-url", url], environment: TestClock.environment())
        return (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    static func score(_ url: String) async throws -> Int {
        await (try explain("credential:helper-key", url)["score"] as? Int) ?? -1
    }

    @Test("modelscan over the model's files: bound to their digest; a clean scan lowers the serialization factor, a malicious finding holds L at 0.9")
    func modelscanMovesScores() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let (model, digest, inventory) = try Self.estate(dir)
            #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: env).status == 0)
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: env).status == 0)
            let before = try await Self.score(url)

            let clean = try Self.modelscan("clean.json", scanned: model.path, into: dir)
            let ok = try await Fixtures.sleeper(["evidence", "ingest", clean.path, "--subject", "model:scanned-model", "--database-url", url], environment: env)
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stdout.contains("modelscan 0.8.5: 2 file(s) scanned, 0 issue(s)"), "\(ok.stdout)")
            #expect(ok.stdout.contains("result: pass (SLP-SERIALIZATION-SCAN)"))
            #expect(ok.stdout.contains("bound to digest \(digest.prefix(19))"), "\(ok.stdout)")
            let reportSHA = Artifact.of(name: "", data: try Data(contentsOf: clean)).sha256
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE control_id = 'SLP-SERIALIZATION-SCAN' AND result = 'pass' AND subject_digest = '\(digest)'
                      AND artifacts::text LIKE '%\(reportSHA)%' AND artifacts::text LIKE '%pytorch_model.bin%'
                      AND effective_at = '\(Timestamps.format(Self.ranAt))' AND note LIKE '%read as UTC%'
                    """) == 1)
            let steps = await (try Self.explain("model:scanned-model", url)["steps"] as? [String]) ?? []
            #expect(steps.contains { $0.hasPrefix("L0: unsafe_serialization × 0.2000 by SLP-SERIALIZATION-SCAN (effect 0.8 × validity 1.0000") }, "\(steps)")
            let afterPass = try await Self.score(url)
            #expect(afterPass < before, "a clean serialization scan lowers the score: \(before) → \(afterPass)")

            let unsafe = try Self.modelscan("unsafe.json", scanned: model.path, into: dir)
            let bad = try await Fixtures.sleeper(["evidence", "ingest", "modelscan", unsafe.path, "--subject", "model:scanned-model", "--database-url", url], environment: env)
            #expect(bad.status == 3, "a recorded fail exits 3: \(bad.stderr)")
            #expect(bad.stdout.contains("CRITICAL: posix.system in pytorch_model.bin:archive/data.pkl"))
            let id = try await db.count("SELECT max(id) FROM evidence")
            let failedSteps = await (try Self.explain("model:scanned-model", url)["steps"] as? [String]) ?? []
            #expect(failedSteps.contains("L0 → L: failed serialization scan (evidence #\(id) on model.keras, pytorch_model.bin) holds L at 0.9 or more"), "\(failedSteps)")
            await #expect(try Self.score(url) > before)
        }
    }

    @Test("a report about other bytes is refused, or with --record-stale recorded as stale; a report that names files needs their bytes")
    func otherBytes() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let (model, digest, inventory) = try Self.estate(dir)
            #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: env).status == 0)
            try Data("weights changed after the scan".utf8).write(to: model.appending(path: "pytorch_model.bin"))
            let report = try Self.modelscan("clean.json", scanned: model.path, into: dir)

            let refused = try await Fixtures.sleeper(["evidence", "ingest", report.path, "--subject", "model:scanned-model", "--database-url", url], environment: env)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("but model 'scanned-model' has \(digest) in the inventory: evidence about other bytes is not bound to the model"), "\(refused.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 0)

            let stale = try await Fixtures.sleeper(["evidence", "ingest", report.path, "--subject", "model:scanned-model", "--record-stale", "--database-url", url], environment: env)
            #expect(stale.status == 0, "\(stale.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE subject_digest IS DISTINCT FROM '\(digest)'") == 1)
            let gaps = try await Fixtures.sleeper(["gaps", "--subject", "model:scanned-model", "--format", "csv", "--database-url", url], environment: env)
            #expect(gaps.stdout.contains("SLP-SERIALIZATION-SCAN") && gaps.stdout.contains("stale-digest"), "\(gaps.stdout)")
            // The list says which bytes and where the record stands.
            let listed = try await Fixtures.sleeper(["evidence", "list", "--subject", "model:scanned-model", "--format", "json", "--database-url", url], environment: env)
            let rows = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
            #expect(
                rows.count == 1 && rows[0]["standing"] as? String == "other bytes" && (rows[0]["digest"] as? String)?.hasPrefix("sha256:") == true
                    && rows[0]["digest"] as? String != digest, "\(listed.stdout)")
            // A fail about other bytes counts until a record on the current bytes decides.
            let unsafe = try Self.modelscan("unsafe.json", scanned: model.path, into: dir)
            #expect(
                try await Fixtures.sleeper(["evidence", "ingest", "modelscan", unsafe.path, "--subject", "model:scanned-model", "--record-stale", "--database-url", url], environment: env).status == 3)
            let failedGaps = try await Fixtures.sleeper(["gaps", "--subject", "model:scanned-model", "--format", "csv", "--database-url", url], environment: env)
            #expect(failedGaps.stdout.split(whereSeparator: \.isNewline).contains { $0.contains("SLP-SERIALIZATION-SCAN") && $0.contains(",failed,") }, "\(failedGaps.stdout)")

            let elsewhere = try Self.modelscan("clean.json", scanned: "/nowhere/models/acme", into: dir)
            let unnamed = try await Fixtures.sleeper(["evidence", "ingest", elsewhere.path, "--subject", "model:scanned-model", "--database-url", url], environment: env)
            #expect(unnamed.status == 1 && unnamed.stderr.contains("names the files it scanned"), "\(unnamed.stderr)")
            let given = try await Fixtures.sleeper(["evidence", "ingest", elsewhere.path, "--subject", "model:scanned-model", "--digest", digest, "--database-url", url], environment: env)
            #expect(given.status == 0, "\(given.stderr)")

            let other = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", Self.reports.appending(path: "cyclonedx-declarations/model-attestation.cdx.json").path,
                    "--subject", "model:scanned-model", "--database-url", url,
                ], environment: env)
            #expect(other.status == 1 && other.stderr.contains("has \(digest) in the inventory"), "\(other.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 3, "the two stale records and the bound one; the refused claim wrote nothing")
        }
    }

    @Test("garak and promptfoo red-teams become SLP-REDTEAM; fickling over the model's files; CycloneDX declarations bind through their target's hash; bad reports write nothing")
    func redTeamsAndDeclarations() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let (model, digest, inventory) = try Self.estate(dir)
            #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: env).status == 0)
            let rules = dir.appending(path: "rules.yaml")
            let shipped = String(decoding: try Data(contentsOf: Fixtures.packageRoot.appending(path: "Controls/report-rules.yaml")), as: UTF8.self)
            try Data(shipped.replacingOccurrences(of: #"probes: [latentinjection"#, with: #"probes: [test, latentinjection"#).utf8).write(to: rules)

            let garak = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", Self.reports.appending(path: "garak/test_with_ci.report.jsonl").path, "--rules", rules.path,
                    "--subject", "model:scanned-model", "--by", "red-team", "--database-url", url,
                ], environment: env)
            #expect(garak.status == 3, "\(garak.stderr)")
            #expect(garak.stdout.contains("test.Test / always.Pass: 13 of 50 failed (26.0%)"), "\(garak.stdout)")
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE control_id = 'SLP-REDTEAM' AND result = 'fail' AND recorded_by = 'red-team'
                      AND effective_at = '2025-08-28T14:07:00Z' AND subject_digest = '\(digest)' AND note LIKE '%garak 0.14.0.pre1%'
                    """) == 1)
            let steps = await (try Self.explain("model:scanned-model", url)["steps"] as? [String]) ?? []
            #expect(steps.contains { $0.hasPrefix("L0 → L: failed red-team") && $0.hasSuffix("holds L at 0.5 or more") }, "\(steps)")
            let shippedRule = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", Self.reports.appending(path: "garak/test_with_ci.report.jsonl").path,
                    "--subject", "model:scanned-model", "--database-url", url,
                ], environment: env)
            #expect(shippedRule.status == 1 && shippedRule.stderr.contains("has no eval of a probe the rule counts"), "\(shippedRule.stderr)")

            let promptfoo = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", "promptfoo", Self.reports.appending(path: "promptfoo/redteam-pass.json").path,
                    "--subject", "model:scanned-model", "--database-url", url,
                ], environment: env)
            #expect(promptfoo.status == 0, "\(promptfoo.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-REDTEAM' AND result = 'pass' AND note LIKE '%Tested bytes: not named by the report%'") == 1)

            let fickling = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", "fickling", Self.reports.appending(path: "fickling/stacked-malicious.json").path,
                    "--subject", "model:scanned-model", "--model-path", model.path, "--effective", Timestamps.format(Self.ranAt),
                    "--database-url", url,
                ], environment: env)
            #expect(fickling.status == 3, "\(fickling.stderr)")
            #expect(fickling.stdout.contains("2 pickle(s) analysed, worst severity OVERTLY_MALICIOUS"), "\(fickling.stdout)")
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE control_id = 'SLP-SERIALIZATION-SCAN' AND result = 'fail' AND subject_digest = '\(digest)'
                      AND effective_at = '\(Timestamps.format(Self.ranAt))' AND note LIKE '%the time given with --effective%'
                      AND note LIKE '%fickling (version not stated)%'
                    """) == 1)

            let bom = dir.appending(path: "attestation.cdx.json")
            let text = String(decoding: try Data(contentsOf: Self.reports.appending(path: "cyclonedx-declarations/model-attestation.cdx.json")), as: UTF8.self)
            try Data(TestClock.shifted(text, from: "2026-11-30").utf8).write(to: bom)
            let attested = try await Fixtures.sleeper(["evidence", "ingest", bom.path, "--subject", "model:attested-model", "--database-url", url], environment: env)
            #expect(attested.status == 0, "\(attested.stderr)")
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE subject_key = 'attested-model' AND control_id = 'SLP-BACKDOOR-SCAN' AND result = 'pass'
                      AND subject_digest = 'sha256:3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468' AND expires_at - effective_at = interval '90 days'
                    """) == 1)

            let count = try await db.count("SELECT count(*) FROM evidence")
            let whole = try Data(contentsOf: Self.reports.appending(path: "garak/test.report.jsonl"))
            let cut = dir.appending(path: "cut.report.jsonl")
            try whole.prefix(whole.count - 150).write(to: cut)
            let truncated = try await Fixtures.sleeper(["evidence", "ingest", "garak", cut.path, "--rules", rules.path, "--subject", "model:scanned-model", "--database-url", url], environment: env)
            #expect(truncated.status == 1 && truncated.stderr.contains("is cut short"), "\(truncated.stderr)")
            let noModel = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", Self.reports.appending(path: "cyclonedx-declarations/valid-attestation-1.6.json").path,
                    "--control", "SLP-THIRD-PARTY-REVIEW", "--subject", "model:scanned-model", "--database-url", url,
                ], environment: env)
            #expect(noModel.status == 1 && noModel.stderr.contains("names no model"), "\(noModel.stderr)")
            // A report that states no time is refused without --effective: a file's modification
            // time would let copy order decide the verdict.
            let timeless = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", Self.reports.appending(path: "fickling/safe.json").path,
                    "--subject", "model:scanned-model", "--model-path", model.path, "--database-url", url,
                ], environment: env)
            #expect(timeless.status == 1 && timeless.stderr.contains("states no time for its run: give the time of the scan with --effective"), "\(timeless.stderr)")
            let ghost = try await Fixtures.sleeper(
                [
                    "evidence", "ingest", Self.reports.appending(path: "fickling/safe.json").path,
                    "--subject", "model:ghost", "--effective", Timestamps.format(Self.ranAt), "--database-url", url,
                ], environment: env)
            #expect(ghost.status == 1 && ghost.stderr.contains("unknown subject 'model:ghost'"), "\(ghost.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == count)
        }
    }

    @Test("over HTTP: a report that names files needs ?digest=; with it the record is bound, and a dangerous pickle is a fail")
    func overHTTP() async throws {
        try await ServerTests.withServer { server, tokens, db in
            let body = try Data(contentsOf: Self.reports.appending(path: "picklescan/dangerous.txt"))
            let digest = try #require(try await InventoryStore(db).modelDigest("acme-support-ft") ?? nil)
            let before = try await db.count("SELECT count(*) FROM evidence")
            let missing = try await server.call("POST", "/v1/evidence/ingest?subject=model:acme-support-ft", token: tokens.editor, body: body, contentType: "text/plain")
            #expect(missing.status == 400 && missing.body.contains("names the files it scanned"), "\(missing.body)")
            let viewer = try await server.call("POST", "/v1/evidence/ingest?subject=model:acme-support-ft&digest=\(digest)", token: tokens.viewer, body: body, contentType: "text/plain")
            #expect(viewer.status == 403)
            #expect(try await db.count("SELECT count(*) FROM evidence") == before)
            let recorded = try await server.call(
                "POST", "/v1/evidence/ingest?subject=model:acme-support-ft&digest=\(digest)&effective=\(Timestamps.formatDay(Self.ranAt))",
                token: tokens.editor, body: body, contentType: "text/plain")
            #expect(recorded.status == 201, "\(recorded.body)")
            let answer = try #require(recorded.json as? [String: Any])
            let report = try #require(answer["report"] as? [String: Any])
            #expect(report["result"] as? String == "fail" && report["control"] as? String == "SLP-SERIALIZATION-SCAN")
            let rows = try #require(answer["recorded"] as? [[String: Any]])
            #expect(rows.first?["subject_digest"] as? String == digest)
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-SERIALIZATION-SCAN' AND result = 'fail' AND recorded_by = 'pipeline'") == 1)
        }
    }
}
