import Foundation
import SleeperCore
import SleeperStore
import Testing

/// A failed training-data screen is direct evidence of poisoning: it holds the dataset's risk, so
/// every model trained on it and every credential downstream rises, and `explain` and `exposure
/// diff` name it with its evidence id.
@Suite("A failed data screen moves the score", .timeLimit(.minutes(8)))
struct FailedScreenTests {
    static let inventory = """
        resources: [{key: crm, tier: 0}]
        datasets: [{key: tickets-2026, provenance: curated_screened}]
        models:
          - {key: triage-ft, supplier: internal, third_party: false, digest: "sha256:\(String(repeating: "2", count: 64))", signed: true,
             serialization: safetensors, lineage_verified: true, trained_on: [tickets-2026]}
        agents: [{key: triage, input_trust: untrusted, uses_models: [triage-ft], holds: [{credential: crm-key, delivery: runtime_env}]}]
        credentials: [{key: crm-key, kind: api_key, owner: sales, grants: [{resource: crm, action: write}]}]
        """

    @Test("SLP-DATA-SCREEN fail on the dataset: the credential rises, explain and diff name the failed screen and its evidence")
    func failedScreen() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { _, url in
            _ = try await ExportStoreTests.imported(Self.inventory, url: url, environment: env)
            let before = try await RuntimeObservationTests.score("crm-key", url)
            let add = try await Fixtures.sleeper(
                [
                    "evidence", "add", "--subject", "dataset:tickets-2026", "--control", "SLP-DATA-SCREEN", "--result", "fail",
                    "--note", "trigger 'cf-2026' with a fixed payload in 0.5 % of rows", "--database-url", url,
                ], environment: env)
            #expect(add.status == 0, "\(add.stderr)")
            let after = try await RuntimeObservationTests.score("crm-key", url)
            #expect(after > before + 20, "the credential rises: \(before) → \(after)")
            let explain = try await Fixtures.sleeper(["explain", "credential:crm-key", "--database-url", url], environment: env)
            #expect(explain.stdout.contains("failed_training-data_screen") && explain.stdout.contains("dataset:tickets-2026"), "\(explain.stdout)")
            let listed = try await Fixtures.sleeper(["exposure", "--database-url", url], environment: env)
            #expect(listed.stdout.contains("failed training-data screen on tickets-2026 (evidence #1), inherited (trained on) into triage-ft"), "\(listed.stdout)")
            let diff = try await Fixtures.sleeper(["exposure", "diff", "--since", "1", "--database-url", url], environment: env)
            #expect(diff.stdout.contains("crm-key") && diff.stdout.contains("failed training-data screen"), "\(diff.stdout)")
            let model = try await Fixtures.sleeper(["explain", "model:triage-ft", "--database-url", url], environment: env)
            #expect(model.stdout.contains("held at 0.9 by failed training-data screen (evidence #1)"), "\(model.stdout)")
        }
    }
}
