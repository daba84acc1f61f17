import Foundation
import SleeperCore
import SleeperStore
import Testing

/// `exposure diff` gives the true reason: read from what changed between the two runs on the
/// paths that reach each credential (any path, not only the top one), and true in the sense that
/// undoing that one change gives the old scores back.
@Suite("exposure diff gives the true reason", .timeLimit(.minutes(8)))
struct DiffReasonTests {
    static func inventory(supportHoldsPay: Bool = true) -> String {
        """
        resources: [{key: payments, tier: 0}, {key: tickets, tier: 1}, {key: shipping, tier: 1}]
        models:
          - {key: support-8b, supplier: internal, third_party: false, digest: "sha256:\(String(repeating: "3", count: 64))", signed: true,
             serialization: safetensors, lineage_verified: true}
          - {key: helper-3b, supplier: acme, third_party: true, digest: "sha256:\(String(repeating: "4", count: 64))", signed: false,
             serialization: safetensors, lineage_verified: false}
        agents:
          - {key: support-agent, input_trust: untrusted, uses_models: [support-8b], delegates_to: [courier],
             holds: [\(supportHoldsPay ? "{credential: pay-key, delivery: runtime_env}, " : ""){credential: ops-key, delivery: runtime_env}]}
          - {key: helper-agent, input_trust: internal, uses_models: [helper-3b], holds: [{credential: ops-key, delivery: tool_held}, {credential: hr-key, delivery: runtime_env}]}
          - {key: courier, input_trust: internal, holds: [{credential: ship-key, delivery: runtime_env}]}
        credentials:
          - {key: pay-key, kind: api_key, owner: payments, grants: [{resource: payments, action: write}]}
          - {key: ops-key, kind: api_key, owner: ops, grants: [{resource: tickets, action: write}]}
          - {key: hr-key, kind: api_key, owner: hr, grants: [{resource: tickets, action: read}]}
          - {key: ship-key, kind: api_key, owner: logistics, grants: [{resource: shipping, action: write}]}
        """
    }

    static func scores(_ db: Database) async throws -> [String: Int] {
        let runs = ScoreRuns(db)
        let run = try #require(try await runs.latestRunID())
        let list = try await runs.exposures(run: run, top: nil, band: nil, minScore: nil, owner: nil, resource: nil)
        return Dictionary(uniqueKeysWithValues: list.map { ($0.credential, $0.score) })
    }

    /// Makes `change`, then diffs the run before it with the run after it; undoes it and checks
    /// that the old scores are back. Returns the diff's reasons by credential.
    static func changed(_ db: Database, _ url: String, _ env: [String: String], change: [String], undo: () throws -> [String])
        async throws -> (rows: [ScoreDiff.Row], before: [String: Int], after: [String: Int])
    {
        let runs = ScoreRuns(db)
        let before = try await scores(db)
        let from = try #require(try await runs.latestRunID())
        let made = try await Fixtures.sleeper(change + ["--database-url", url], environment: env)
        try #require(made.status == 0, "\(change): \(made.stderr)")
        let to = try #require(try await runs.latestRunID())
        let rows = try await runs.diff(from: from, to: to)
        let after = try await scores(db)
        let undone = try await Fixtures.sleeper(try undo() + ["--database-url", url], environment: env)
        try #require(undone.status == 0, "undo: \(undone.stderr)")
        #expect(try await scores(db) == before, "undoing the change named as the reason gives the old scores back")
        return (rows, before, after)
    }

    @Test("a failed scan on a model off the top path, an edge removed, human review on an agent upstream: each changed credential names the change, and undoing it restores the score")
    func trueReasons() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let (dir, file) = try await ExportStoreTests.imported(Self.inventory(), url: url, environment: env)
            defer { try? FileManager.default.removeItem(at: dir) }

            // 1. A failed backdoor scan on helper-3b: ops-key's top path is support-8b's, yet it rises
            //    through helper-agent; hr-key through its only path.
            let scan = try await Self.changed(db, url, env, change: ["evidence", "add", "--subject", "model:helper-3b", "--control", "SLP-BACKDOOR-SCAN", "--result", "fail"]) {
                ["evidence", "withdraw", "1"]
            }
            #expect(Set(scan.rows.map(\.credential)) == ["ops-key", "hr-key"], "\(scan.rows.map { ($0.credential, $0.reasons) })")
            for row in scan.rows {
                #expect(row.reasons.first?.hasPrefix("new failed backdoor scan on helper-3b (evidence #1)") == true, "\(row.credential): \(row.reasons)")
                #expect(!row.reasons.contains { $0.contains("upstream likelihood") }, "no generic reason: \(row.reasons)")
            }

            // 2. The holds edge support-agent → pay-key removed: the path went; the scan on support-8b did not.
            _ = try await Fixtures.sleeper(
                ["evidence", "add", "--subject", "model:support-8b", "--control", "SLP-SERIALIZATION-SCAN", "--result", "pass", "--database-url", url],
                environment: env)
            try Data(Self.inventory(supportHoldsPay: false).utf8).write(to: file)
            let edge = try await Self.changed(db, url, env, change: ["import", file.path]) {
                try Data(Self.inventory().utf8).write(to: file)
                return ["import", file.path]
            }
            let pay = try #require(edge.rows.first { $0.credential == "pay-key" })
            #expect(pay.after == 0 && pay.reasons.first == "the path support-8b → support-agent no longer reaches it, and no model does (no holder)", "\(pay.reasons)")
            #expect(!pay.reasons.contains { $0.contains("no longer stands") })

            // 3. Human review recorded on support-agent: the credentials it holds fall, and the reason is that record.
            let review = try await Self.changed(db, url, env, change: ["evidence", "add", "--subject", "agent:support-agent", "--control", "SLP-HITL", "--result", "pass"]) {
                ["evidence", "withdraw", "4"]
            }
            #expect(!review.rows.isEmpty)
            for row in review.rows {
                #expect(row.reasons.first?.hasPrefix("pass for SLP-HITL on agent:support-agent recorded (evidence #4)") == true, "\(row.credential): \(row.reasons)")
            }
            #expect(Set(review.rows.map(\.credential)) == ["pay-key", "ops-key"], "\(review.rows.map(\.credential))")
        }
    }
}
