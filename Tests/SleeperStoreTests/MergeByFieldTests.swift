import Foundation
import SleeperCore
import SleeperStore
import Testing

/// One estate from many sources: a hand-written file adds to what sources brought and never
/// erases it; the fields it states win over every source, whatever the order of the imports.
@Suite("A hand-written file merges field by field", .timeLimit(.minutes(10)))
struct MergeByFieldTests {
    static let aws = "aws:123456789012:svc-pay:key1"

    /// The hand-written file every team needs: grants, a resource, which agent uses which model and
    /// holds which key — and one owner set by hand over the source's.
    static let overlay = """
        resources: [{key: payments, tier: 0}, {key: releases, tier: 1}]
        models: [{key: pay-model, third_party: false, digest: "sha256:\(String(repeating: "5", count: 64))", signed: true, serialization: safetensors, lineage_verified: true}]
        credentials:
          - {key: "\(aws)", grants: [{resource: payments, action: write}]}
          - {key: "github:pat:98716", owner: release-team, grants: [{resource: releases, action: write}]}
        agents:
          - {key: pay-agent, input_trust: untrusted, uses_models: [pay-model],
             holds: [{credential: "\(aws)", delivery: runtime_env}, {credential: "github:pat:98716", delivery: tool_held}]}
        """

    static func files() throws -> (aws: URL, github: URL, hand: URL) {
        let dir = try ExportStoreTests.scratch()
        let aws = try SourceImportTests.report([SourceImportTests.row("svc-pay")])
        let hand = dir.appending(path: "glue.yaml")
        try Data(overlay.utf8).write(to: hand)
        return (aws, SourceImportTests.fixtures.appending(path: "github-tokens.json"), hand)
    }

    /// The credentials as stored (every field), and the scores of the latest run.
    static func estate(_ url: String) async throws -> (credentials: String, scores: String) {
        let env = TestClock.environment()
        let listed = try await Fixtures.sleeper(["inventory", "credentials", "--format", "json", "--database-url", url], environment: env)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: env).status == 0)
        let scores = try await Fixtures.sleeper(["exposure", "--format", "csv", "--database-url", url], environment: env)
        // Ties are listed in the order credentials entered the inventory, which the order of imports decides.
        return (listed.stdout, scores.stdout.split(whereSeparator: \.isNewline).sorted().joined(separator: "\n"))
    }

    @Test("an entry that states only grants keeps the kind, provider, owner and dates the source brought; the dry run names each changed field")
    func keepsWhatSourcesBrought() async throws {
        let env = TestClock.environment()
        let (aws, github, hand) = try Self.files()
        try await TestDatabase.withCatalogs { db, url in
            #expect(try await Fixtures.sleeper(["import", aws.path, github.path, "--database-url", url], environment: env).status == 0)
            let dry = try await Fixtures.sleeper(["import", hand.path, "--dry-run", "--database-url", url], environment: env)
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("changed credential:github:pat:98716: owner octo-bot → release-team"), "\(dry.stdout)")
            #expect(!dry.stdout.contains("changed credential:\(Self.aws)"), "nothing of the AWS key's own fields changes: \(dry.stdout)")
            #expect(try await Fixtures.sleeper(["import", hand.path, "--database-url", url], environment: env).status == 0)
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM credentials WHERE key = '\(Self.aws)' AND kind = 'access_key' AND provider = 'aws' AND owner = 'svc-pay'
                      AND created_at IS NOT NULL AND last_rotated_at IS NOT NULL
                    """) == 1)
            #expect(
                try await db.count(
                    "SELECT count(*) FROM credentials WHERE key = 'github:pat:98716' AND kind = 'personal_access_token' AND owner = 'release-team' AND expires_at IS NOT NULL AND cardinality(scopes) = 4"
                ) == 1)
            #expect(try await db.count("SELECT count(*) FROM grants") == 2)
            // The audit entry carries the same field changes.
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'inventory.import' AND detail->>'fields_changed' LIKE '%owner octo-bot → release-team%'") == 1)

            // The sources again: the owner set by hand stands, the rest is the source's.
            #expect(try await Fixtures.sleeper(["import", aws.path, github.path, "--database-url", url], environment: env).status == 0)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = 'github:pat:98716' AND owner = 'release-team'") == 1)
            #expect(try await db.count("SELECT count(*) FROM grants") == 2, "grants come from the hand-written file; no source takes them away")

            // An explicit null clears a field, says so, and no source brings it back.
            let cleared = ExportStoreTests.scratchFile("cleared.yaml", "credentials: [{key: \"\(Self.aws)\", owner: null}]")
            let run = try await Fixtures.sleeper(["import", cleared.path, "--database-url", url], environment: env)
            #expect(run.stdout.contains("changed credential:\(Self.aws): owner svc-pay → (none)"), "\(run.stdout)")
            #expect(try await Fixtures.sleeper(["import", aws.path, "--database-url", url], environment: env).status == 0)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = '\(Self.aws)' AND owner IS NULL AND kind = 'access_key'") == 1)
        }
    }

    @Test("sources and a hand-written file in one import: the same key in both, and references to what the source brings, on a fresh store")
    func oneImport() async throws {
        let env = TestClock.environment()
        let (aws, github, hand) = try Self.files()
        try await TestDatabase.withCatalogs { db, url in
            let run = try await Fixtures.sleeper(["import", hand.path, aws.path, github.path, "--database-url", url], environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = '\(Self.aws)' AND kind = 'access_key' AND owner = 'svc-pay'") == 1)
            #expect(try await db.count("SELECT count(*) FROM holds") == 2)
        }
    }

    @Test("the same files in any order give the same estate and the same scores")
    func anyOrder() async throws {
        let (aws, github, hand) = try Self.files()
        let orders: [[URL]] = [[aws, github, hand], [hand, aws, github], [github, hand, aws], [hand, github, aws], [aws, hand, github]]
        var results: [(credentials: String, scores: String)] = []
        for order in orders {
            results.append(
                try await TestDatabase.withCatalogs { _, url in
                    for file in order {
                        let run = try await Fixtures.sleeper(["import", file.path, "--database-url", url], environment: TestClock.environment())
                        #expect(run.status == 0, "\(file.lastPathComponent): \(run.stderr)")
                    }
                    return try await Self.estate(url)
                })
        }
        // And all at once.
        results.append(
            try await TestDatabase.withCatalogs { _, url in
                #expect(try await Fixtures.sleeper(["import", hand.path, aws.path, github.path, "--database-url", url], environment: TestClock.environment()).status == 0)
                return try await Self.estate(url)
            })
        #expect(results[0].scores.contains(Self.aws), "\(results[0].scores)")
        for (i, r) in results.enumerated().dropFirst() {
            #expect(r.credentials == results[0].credentials, "order \(i): \(r.credentials)\nvs\n\(results[0].credentials)")
            #expect(r.scores == results[0].scores, "order \(i): \(r.scores)\nvs\n\(results[0].scores)")
        }
    }
}
