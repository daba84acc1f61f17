import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Credentials whose P·I·H reaches 1 all score 100; the list orders them by the product before
/// the cap (`raw`), shows it, and a what-if under the cap still shows what a control would lower.
@Suite("Ranking beyond the cap", .timeLimit(.minutes(8)))
struct RankingBeyondCapTests {
    /// Three risky models behind three untrusted agents that hold every credential in their
    /// environment: P is close to 1, so hygiene alone separates the credentials. They are listed
    /// cleanest first, so id order is the opposite of risk order.
    static func estate() -> String {
        let recent = Timestamps.formatDay(TestClock.now.addingTimeInterval(-10 * TestClock.day))
        let later = Timestamps.formatDay(TestClock.now.addingTimeInterval(200 * TestClock.day))
        let models = (1...3).map { i in
            "  - {key: risky-\(i), name: Risky \(i), supplier: hub-user-\(i), third_party: true, signed: false, serialization: pickle, lineage_verified: false, training_data_declared: false}"
        }
        let agents = (1...3).map { i in
            """
              - key: intake-\(i)
                name: Intake \(i)
                owner: ops
                input_trust: untrusted
                uses_models: [risky-\(i)]
                holds: [{credential: cap-a, delivery: runtime_env}, {credential: cap-b, delivery: runtime_env}, {credential: cap-c, delivery: runtime_env}, {credential: cap-d, delivery: runtime_env}]
            """
        }
        // H (every credential is shared, +0.1): cap-a 1.1; cap-b no owner 1.2; cap-c exposed 1.3; cap-d both 1.4.
        let credentials = [
            "  - {key: cap-a, kind: api_key, owner: ops, fingerprint: key_a1, created_at: \(recent), last_rotated_at: \(recent), expires_at: \(later), last_used_at: \(recent), grants: [{resource: vault, action: admin}]}",
            "  - {key: cap-b, kind: api_key, fingerprint: key_b1, created_at: \(recent), last_rotated_at: \(recent), expires_at: \(later), last_used_at: \(recent), grants: [{resource: vault, action: admin}]}",
            "  - {key: cap-c, kind: api_key, owner: ops, fingerprint: key_c1, exposed: true, created_at: \(recent), last_rotated_at: \(recent), expires_at: \(later), last_used_at: \(recent), grants: [{resource: vault, action: admin}]}",
            "  - {key: cap-d, kind: api_key, fingerprint: key_d1, exposed: true, created_at: \(recent), last_rotated_at: \(recent), expires_at: \(later), last_used_at: \(recent), grants: [{resource: vault, action: admin}]}",
        ]
        return "resources:\n  - {key: vault, name: Secrets vault, tier: 0, owner: security}\nmodels:\n" + models.joined(separator: "\n")
            + "\nagents:\n" + agents.joined(separator: "\n") + "\ncredentials:\n" + credentials.joined(separator: "\n") + "\n"
    }

    /// A fresh database with the estate above imported and scored.
    static func withScoredEstate(_ body: (Database, String) async throws -> Void) async throws {
        try await TestDatabase.withFresh { db in
            _ = try await CatalogStore(db).syncBundled()
            let url = TestDatabase.url(for: db.settings)
            let file = FileManager.default.temporaryDirectory.appending(path: "cap-\(UUID().uuidString).yaml")
            try Self.estate().write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let env = TestClock.environment()
            #expect(try await Fixtures.sleeper(["import", file.path, "--database-url", url], environment: env).status == 0)
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: env).status == 0)
            try await body(db, url)
        }
    }

    static func exposures(_ url: String, _ extra: [String] = []) async throws -> [[String: Any]] {
        let run = try await Fixtures.sleeper(["exposure", "--format", "json", "--database-url", url] + extra, environment: TestClock.environment())
        #expect(run.status == 0, "\(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
    }

    @Test("credentials at 100 are ordered by raw = P·I·H, which every listing shows, in full and incremental runs; --top takes the riskiest")
    func orderedByRaw() async throws {
        try await Self.withScoredEstate { db, url in
            let env = TestClock.environment()

            let rows = try await Self.exposures(url)
            let capped = rows.filter { $0["score"] as? Int == 100 }
            try #require(capped.count == 4, "the estate is built so that every credential caps: \(rows)")
            var raws: [Double] = []
            for row in rows {
                let (p, i, h) = (row["p"] as? Double ?? 0, row["impact"] as? Double ?? 0, row["hygiene"] as? Double ?? 0)
                let raw = try #require(row["raw"] as? Double, "raw is shown: \(row)")
                #expect(abs(raw - p * i * h) < 1e-3, "raw is P·I·H: \(row)")
                raws.append(raw)
            }
            #expect(Set(raws.map { ($0 * 1000).rounded() }).count == 4, "the raws differ: \(raws)")
            #expect(raws == raws.sorted(by: >), "listed by raw, largest first: \(raws)")
            #expect(rows.map { $0["credential"] as? String ?? "" } == ["cap-d", "cap-c", "cap-b", "cap-a"])
            let top = try await Self.exposures(url, ["--top", "1"])
            #expect(top.first?["credential"] as? String == "cap-d", "--top 1 is the riskiest, not the first by id")
            let csv = try await Fixtures.sleeper(["exposure", "--format", "csv", "--database-url", url], environment: env).stdout
            #expect(csv.split(separator: "\n").first?.split(separator: ",").prefix(3) == ["credential", "score", "raw"], "\(csv)")
            let table = try await Fixtures.sleeper(["exposure", "--database-url", url], environment: env).stdout
            #expect(table.contains("RAW"), "\(table)")

            // An incremental run (evidence on one model) keeps the order across its own and its base's rows.
            #expect(
                try await Fixtures.sleeper(
                    [
                        "evidence", "add", "--subject", "model:risky-1", "--control", "SLP-PROVENANCE", "--result", "pass",
                        "--database-url", url,
                    ], environment: env
                ).status == 0)
            let runs = try await db.count("SELECT count(*) FROM score_runs WHERE base_run_id IS NOT NULL")
            #expect(runs == 1, "the evidence was rescored incrementally")
            let after = try await Self.exposures(url).compactMap { $0["raw"] as? Double }
            #expect(after == after.sorted(by: >) && after.count == 4, "\(after)")
        }
    }

    @Test("explain shows raw and a what-if that lowers raw while the score stays at 100")
    func whatIfUnderTheCap() async throws {
        try await Self.withScoredEstate { db, url in
            let env = TestClock.environment()
            let json = try await Fixtures.sleeper(["explain", "credential:cap-d", "--format", "json", "--database-url", url], environment: env)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
            let raw = try #require(object["raw"] as? Double)
            #expect(object["score"] as? Int == 100 && raw > 1, "\(object)")
            let whatIf = try #require(object["what_if"] as? [[String: Any]])
            #expect(!whatIf.isEmpty, "a control that lowers raw is listed even when the score stays at 100")
            for w in whatIf {
                let after = try #require(w["raw_after"] as? Double)
                #expect(after < raw, "\(w)")
            }
            let text = try await Fixtures.sleeper(["explain", "credential:cap-d", "--database-url", url], environment: env).stdout
            #expect(text.contains("= round(100 · min(1, raw)); raw = P "), "\(text)")
        }
    }
}
