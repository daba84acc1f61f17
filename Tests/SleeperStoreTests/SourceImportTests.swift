import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Sources own what they bring: a snapshot updates only its own fields and edges, a re-import
/// removes what the source dropped (kept in history), and nothing written by hand is touched.
@Suite("Importing from sources", .timeLimit(.minutes(8)))
struct SourceImportTests {
    static let fixtures = Fixtures.packageRoot.appending(path: "Tests/Fixtures/sources")

    static func report(_ rows: [String]) throws -> URL {
        let url = try ExportStoreTests.scratch().appending(path: "credential-report.csv")
        try Data(([Self.header] + rows).joined(separator: "\n").utf8).write(to: url)
        return url
    }

    static let header = AWSCredentialReportReader.columns.joined(separator: ",")

    static func row(_ user: String, key1: String = "true", used: String = "2026-11-29T17:42:00+00:00") -> String {
        "\(user),arn:aws:iam::123456789012:user/\(user),2024-01-10T10:00:00+00:00,false,N/A,N/A,N/A,false,\(key1),2024-01-10T10:05:00+00:00,\(used),eu-west-1,s3,true,2026-06-01T12:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A"
    }

    @Test("a re-imported snapshot removes what its source dropped, keeps what a hand-written file describes, and never overwrites hand-written fields or grants")
    func snapshots() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: now) }
            await #expect(try sleeper(["import", Fixtures.packageRoot.appending(path: "Examples/inventory.yaml").path]).status == 0)
            let first = try await sleeper(["import", try Self.report([Self.row("svc-pay"), Self.row("svc-ci")]).path])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("source aws:123456789012 (aws-credential-report): 4 listed"), "\(first.stdout)")
            // A hand-written file describes one of the source's keys and refers to another.
            let hand = try ExportStoreTests.scratch().appending(path: "hand.yaml")
            try Data(
                """
                resources:
                  - {key: billing-bucket, name: Billing exports, owner: finance, tier: 1}
                credentials:
                  - key: aws:123456789012:svc-pay:key2
                    kind: access_key
                    owner: payments-team
                    scopes: [s3:GetObject]
                    grants: [{resource: billing-bucket, action: read}]
                agents:
                  - key: payments-agent
                    owner: payments-team
                    holds: [{credential: "aws:123456789012:svc-ci:key1", delivery: runtime_env}]
                """.utf8
            ).write(to: hand)
            await #expect(try sleeper(["import", hand.path]).status == 0)
            await #expect(try sleeper(["score"]).status == 0)

            // The next report: svc-ci is gone, svc-pay's key 1 was used again. Half of what the source
            // listed would go: refused with the list, nothing written, until the removals are allowed.
            let next = try Self.report([Self.row("svc-pay", used: "2026-11-30T08:00:00+00:00")])
            let guarded = try await sleeper(["import", next.path])
            #expect(
                guarded.status == 1
                    && guarded.stderr.contains(
                        "would remove 2 of the 4 entities it listed (50 %, over the 20 % a snapshot may remove): "
                            + "credential:aws:123456789012:svc-ci:key1, credential:aws:123456789012:svc-ci:key2; nothing was written"),
                "\(guarded.stderr)")
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key LIKE 'aws:123456789012:svc-ci:%'") == 2)
            await #expect(try sleeper(["import", next.path, "--max-removals", "60", "--dry-run"]).status == 0)
            let second = try await sleeper(["import", next.path, "--allow-removals"])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("removed, no longer listed: credential:aws:123456789012:svc-ci:key1, credential:aws:123456789012:svc-ci:key2"), "\(second.stdout)")
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key LIKE 'aws:123456789012:svc-ci:%'") == 0)
            #expect(try await db.count("SELECT count(*) FROM removed_entities WHERE key LIKE 'aws:123456789012:svc-ci:%' AND entity->>'owner' = 'svc-ci'") == 2)
            #expect(
                try await db.count("SELECT count(*) FROM holds h JOIN agents a ON a.id = h.agent_id WHERE a.key = 'payments-agent'") == 0,
                "the hold of a removed key goes with it")
            // What the hand-written file said of key 2 stands: its owner, scopes and grant.
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = 'aws:123456789012:svc-pay:key2' AND owner = 'payments-team' AND scopes = '{s3:GetObject}'") == 1)
            #expect(try await db.count("SELECT count(*) FROM grants g JOIN credentials c ON c.id = g.credential_id WHERE c.key = 'aws:123456789012:svc-pay:key2'") == 1)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = 'aws:123456789012:svc-pay:key1' AND last_used_at = '2026-11-30T08:00:00Z'") == 1)

            // The report drops svc-pay altogether: key 1 goes, key 2 was described by hand and stays.
            let third = try await sleeper(["import", try Self.report([Self.row("alice", key1: "false")]).path, "--allow-removals"])
            #expect(third.status == 0, "\(third.stderr)")
            #expect(third.stdout.contains("1 no longer listed but kept"), "\(third.stdout)")
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = 'aws:123456789012:svc-pay:key2'") == 1)
            let sources = try await sleeper(["sources", "--format", "csv"])
            // alice's inactive key 1 is listed too, as disabled.
            #expect(sources.stdout.contains("aws:123456789012,aws-credential-report,2,3,3,"), "\(sources.stdout)")
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key = 'aws:123456789012:alice:key1' AND state = 'disabled'") == 1)
            // Scores follow: the current run has no removed credential and equals a full run.
            let exposure = try await sleeper(["exposure", "--format", "csv"])
            #expect(!exposure.stdout.contains("svc-ci") && !exposure.stdout.contains("svc-pay:key1"), "\(exposure.stdout)")
            try await TrustworthyStateTests.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "after a source removed credentials")
            let audit = try await sleeper(["audit", "--format", "json"])
            #expect(audit.stdout.contains("credential:aws:123456789012:svc-pay:key1"))
        }
    }

    @Test("an AI-BOM, a model card and MCP configs in one import: lineage with the unknown relation stored, names resolved across files, secrets reported and never stored")
    func mixedImport() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let files = ["acme-ai-bom.cdx.json", "acme-support-ft/README.md", "claude_desktop_config.json", "vscode-mcp.json"].map { Self.fixtures.appending(path: $0).path }
            let run = try await Fixtures.sleeper(["import"] + files + ["--database-url", url], environment: now)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("finding: ") && run.stdout.contains("secret material in an MCP config (OWASP NHI2)"), "\(run.stdout)")
            #expect(!(run.stdout + run.stderr).contains("ghp_R2d2"))
            #expect(try await db.count("SELECT count(*) FROM derived_from WHERE relation = 'unknown'") == 2)
            #expect(try await db.count("SELECT count(*) FROM derived_from d JOIN models m ON m.id = d.model_id WHERE m.key = 'acme-support-ft' AND d.relation = 'adapter'") == 1)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE exposed AND key LIKE 'mcp:claude_desktop_config/github/%'") == 1)
            #expect(try await db.count("SELECT count(*) FROM sources") == 4)
            let dump = try await db.count("SELECT count(*) FROM credentials WHERE row(credentials.*)::text LIKE '%ghp_%'")
            #expect(dump == 0)
            // The literal secret is a failed SLP-ROTATION of its credential, recorded once, never with the value.
            #expect(run.stdout.contains("recorded evidence 1: fail for SLP-ROTATION on credential:mcp:claude_desktop_config/github/"), "\(run.stdout)")
            #expect(
                try await db.count(
                    "SELECT count(*) FROM evidence WHERE control_id = 'SLP-ROTATION' AND result = 'fail' AND subject_key LIKE 'mcp:claude_desktop_config/github/%' AND note LIKE '%claude_desktop_config.json: mcpServers.github.env.%'"
                ) == 1)
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE row(evidence.*)::text LIKE '%ghp_%'") == 0)
            let again = try await Fixtures.sleeper(["import", files[2], "--database-url", url], environment: now)
            #expect(again.status == 0 && !again.stdout.contains("recorded evidence"), "\(again.stdout)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-ROTATION'") == 1)
            // A hand-written file may refer to what sources brought: the client agent uses a BOM model.
            let hand = try ExportStoreTests.scratch().appending(path: "wire.json")
            try Data(#"{"agents": [{"key": "desk-assistant", "owner": "it", "uses_models": ["acme/support-ft-q4@2.1"], "delegates_to": ["mcp:claude_desktop_config"]}]}"#.utf8).write(to: hand)
            #expect(try await Fixtures.sleeper(["import", hand.path, "--database-url", url], environment: now).status == 0)
            let score = try await Fixtures.sleeper(["score", "--database-url", url], environment: now)
            #expect(score.status == 0, "\(score.stderr)")
            let explain = try await Fixtures.sleeper(["explain", "credential:env:PAYMENTS_API_KEY", "--database-url", url], environment: now)
            #expect(explain.stdout.contains("unknown"), "the unknown relation is named in the path: \(explain.stdout)")
            // The wrong format, forced: refused, located, nothing written.
            let before = try await db.count("SELECT count(*) FROM models")
            let forced = try await Fixtures.sleeper(["import", "--from", "cyclonedx", files[2], "--database-url", url], environment: now)
            #expect(forced.status == 1 && forced.stderr.contains("bomFormat: is not \"CycloneDX\""), "\(forced.stderr)")
            #expect(try await db.count("SELECT count(*) FROM models") == before)
        }
    }

    @Test("SPDX, GCP keys, GitHub tokens, Kubernetes and Entra in one import: each its own source, listed by `sleeper sources`, scored")
    func credentialSources() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let files = ["acme-ai.spdx3.json", "gcp-keys.json", "github-tokens.json", "kubectl-sa-secrets.json", "entra-applications.json"]
                .map { Self.fixtures.appending(path: $0).path }
            let run = try await Fixtures.sleeper(["import"] + files + ["--database-url", url], environment: now)
            #expect(run.status == 0, "\(run.stderr)")
            let sources = try await Fixtures.sleeper(["sources", "--format", "csv", "--database-url", url], environment: now)
            for expected in [
                "spdx:acme-router-ai-bom,spdx,3,", "gcp:acme-prod,gcp-service-account-keys,3,", "github:github-tokens,github-tokens,2,",
                "kubernetes:kubectl-sa-secrets,kubernetes,3,", "entra:acme.onmicrosoft.com,entra,2,",
            ] {
                #expect(sources.stdout.contains(expected), "\(expected) in \(sources.stdout)")
            }
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE exposed AND provider = 'gcp'") == 1)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE kind = 'workload_identity' AND provider = 'kubernetes'") == 1)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE provider = 'gcp' AND state = 'disabled'") == 2)
            let scored = try await Fixtures.sleeper(["score", "--database-url", url], environment: now)
            #expect(scored.status == 0 && scored.stdout.contains("2 credential(s) score 0 because they are not live (disabled, revoked or expired at their source)"), "\(scored.stdout)")
            let exposure = try await Fixtures.sleeper(["exposure", "--format", "csv", "--database-url", url], environment: now)
            #expect(exposure.stdout.split(separator: "\r\n").count - 1 == 10, "\(exposure.stdout)")
        }
    }

    @Test("a key listed by two sources stays while either lists it: the first to drop it hands it to the other; the last removes it")
    func twoSources() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withFresh { db in
            let url = TestDatabase.url(for: db.settings)
            func load(_ source: String, _ rows: [String]) async throws -> Fixtures.Run {
                try await Fixtures.sleeper(["import", "--source", source, try Self.report(rows).path, "--allow-removals", "--database-url", url], environment: now)
            }
            await #expect(try load("aws:org-audit", [Self.row("svc-pay")]).status == 0)
            await #expect(try load("aws:team-export", [Self.row("svc-pay")]).status == 0)
            let key = "aws:123456789012:svc-pay:key1"
            let first = try await load("aws:org-audit", [])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("2 no longer listed but kept"), "\(first.stdout)")
            #expect(try await db.count("SELECT count(*) FROM credentials c JOIN sources s ON s.id = c.source_id WHERE c.key = '\(key)' AND s.name = 'aws:team-export'") == 1)
            #expect(try await db.count("SELECT count(*) FROM entity_sources") == 0, "the other source's link became the first")
            let last = try await load("aws:team-export", [])
            #expect(last.stdout.contains("removed, no longer listed: credential:\(key)"), "\(last.stdout)")
            #expect(try await db.count("SELECT count(*) FROM credentials") == 0)
            #expect(try await db.count("SELECT count(*) FROM removed_entities") == 2)
        }
    }

    @Test("a snapshot in another format than its source's first is refused: a GitHub token list named as the AWS source removes nothing")
    func otherFormatRefused() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            #expect(try await Fixtures.sleeper(["import", try Self.report([Self.row("svc-pay")]).path, "--database-url", url], environment: now).status == 0)
            let wrong = try await Fixtures.sleeper(
                [
                    "import", "--source", "aws:123456789012", Self.fixtures.appending(path: "github-tokens.json").path,
                    "--allow-removals", "--database-url", url,
                ], environment: now)
            #expect(
                wrong.status == 1 && wrong.stderr.contains("source aws:123456789012 was first imported as aws-credential-report, and these files are github-tokens"),
                "\(wrong.stderr)")
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key LIKE 'aws:%'") == 2)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key LIKE 'github:%'") == 0)
        }
    }

    @Test("over HTTP: a credential report posted as text/csv is a source's snapshot, its format told from the content; a format named wrongly is refused")
    func overHTTP() async throws {
        try await ServerTests.withServer(environment: TestClock.environment()) { server, tokens, db in
            let csv = try Data(contentsOf: try Self.report([Self.row("svc-pay")]))
            let reply = try await server.call("POST", "/v1/inventory/import?source=aws:prod", token: tokens.editor, body: csv, contentType: "text/csv")
            #expect(reply.status == 201, "\(reply.body)")
            let sources = try #require((reply.json as? [String: Any])?["sources"] as? [[String: Any]])
            #expect(sources.first?["name"] as? String == "aws:prod" && sources.first?["entities"] as? Int == 2)
            #expect(try await db.count("SELECT count(*) FROM credentials WHERE key LIKE 'aws:123456789012:svc-pay:%'") == 2)
            let wrong = try await server.call("POST", "/v1/inventory/import?from=cyclonedx", token: tokens.editor, body: csv, contentType: "text/csv")
            #expect(wrong.status == 400 && wrong.body.contains("invalid_input"), "\(wrong.body)")
            let unknown = try await server.call("POST", "/v1/inventory/import?from=excel", token: tokens.editor, body: csv, contentType: "text/csv")
            #expect(unknown.status == 400, "\(unknown.body)")
        }
    }
}
