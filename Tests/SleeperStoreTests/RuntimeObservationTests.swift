import Foundation
import SleeperCore
import SleeperStore
import Testing

/// `sleeper observe import`, `sleeper findings` and `POST /v1/traces` end to end, on traces
/// `scripts/synth-traces` writes: an agent that, after a rare phrase, calls a host no resource
/// lists is a finding with the phrase as its trigger candidate, and its credential rises in
/// `sleeper exposure` at once; a person's decision brings it back down.
@Suite("Runtime: agents' traces against their envelope", .timeLimit(.minutes(8)))
struct RuntimeObservationTests {
    /// Three days before the tests' "now": the ledger takes no check dated after its own (real) clock.
    static let start = Int(TestClock.now.timeIntervalSince1970) - 3 * 86400

    static let inventory = """
        resources:
          - {key: tickets, tier: 1, endpoints: [api.tickets.example]}
          - {key: kb, tier: 2, endpoints: ["https://kb.internal.example/"]}
          - {key: payments, tier: 0, endpoints: ["*.payments.example"]}
        models:
          - {key: support-llm, supplier: internal, third_party: false, digest: "sha256:\(String(repeating: "1", count: 64))", signed: true,
             serialization: safetensors, lineage_verified: true, training_data_declared: true}
        agents:
          - {key: support-bot, input_trust: untrusted, uses_models: [support-llm], tools: [search_kb, create_ticket, lookup_order],
             holds: [{credential: bot-key, delivery: runtime_env}]}
          - {key: triage-bot, input_trust: internal, uses_models: [support-llm], holds: [{credential: triage-key, delivery: brokered}]}
        credentials:
          - {key: bot-key, kind: api_key, owner: support, grants: [{resource: tickets, action: write}, {resource: kb, action: read}, {resource: payments, action: write}]}
          - {key: triage-key, kind: api_key, owner: support, grants: [{resource: tickets, action: read}]}
        """

    /// Decisions are made two days before the tests' "now", after the traces and before the ledger's clock.
    static let decisionEnvironment = TestClock.environment(TestClock.now.addingTimeInterval(-2 * 86400))

    static func traces(_ dir: URL, _ name: String, _ arguments: [String]) async throws -> URL {
        let out = dir.appending(path: name)
        let made = try await Fixtures.python("synth-traces", arguments + ["--start", String(start), "--out", out.path])
        #expect(made.ok, "\(made.output)")
        return out
    }

    static func score(_ credential: String, _ url: String) async throws -> Int {
        let run = try await Fixtures.sleeper(["explain", "credential:\(credential)", "--format", "json", "--database-url", url], environment: TestClock.environment())
        return ((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["score"] as? Int) ?? -1
    }

    @Test(
        "an undeclared host after a rare phrase: a finding with the phrase as trigger candidate, a failed SLP-RUNTIME-MONITOR, the credential critical; again: nothing counted twice; marked a false positive: a pass, the score back"
    )
    func endToEnd() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let (dir, _) = try await ExportStoreTests.imported(Self.inventory, url: url, environment: env)
            let before = try await Self.score("bot-key", url)

            let file = try await Self.traces(dir, "traces.jsonl", ["--traces", "2000", "--trigger", "per aspera mode", "--fired", "8"])
            let run = try await Fixtures.sleeper(["observe", "import", file.path, "--database-url", url], environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("read 8008 span(s) in 2000 agent trace(s); 7 distinct call(s) observed"), "\(run.stdout)")
            #expect(run.stdout.contains("#1 support-bot undeclared-host exfil.attacker.example: 8 trace(s)"), "\(run.stdout)")
            #expect(run.stdout.contains("trigger candidate \"per aspera mode\": in 8 of 8 anomalous traces, 0 of 1992 others"), "\(run.stdout)")
            #expect(try await db.count("SELECT count(*) FROM observed_edges WHERE agent_key = 'support-bot'") == 7)
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE subject_kind = 'agent' AND subject_key = 'support-bot' AND control_id = 'SLP-RUNTIME-MONITOR'
                      AND result = 'fail' AND note LIKE '%undeclared-host exfil.attacker.example (8 trace(s)%trigger candidate "per aspera mode"%'
                    """) == 1)
            let after = try await Self.score("bot-key", url)
            #expect(before < 35 && after >= 60, "the credential the agent holds rises: \(before) → \(after)")
            let exposure = try await Fixtures.sleeper(["exposure", "--database-url", url], environment: env)
            #expect(exposure.stdout.contains("bot-key     \(after)"), "\(exposure.stdout)")
            #expect(exposure.stdout.contains("failed runtime monitoring on support-bot (evidence #1)"), "the main factor names the hold: \(exposure.stdout)")
            await #expect(try Self.score("triage-key", url) < 35, "an agent that did nothing wrong does not move")

            // The same spans again (a re-run): nothing is counted twice.
            let again = try await Fixtures.sleeper(["observe", "import", file.path, "--database-url", url], environment: env)
            #expect(again.status == 0 && again.stdout.contains("these 8008 span(s) were imported at") && again.stdout.contains("nothing was counted twice"), "\(again.stdout)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 1)
            #expect(try await db.count("SELECT count FROM runtime_findings WHERE id = 1") == 8)
            #expect(try await db.count("SELECT count(*) FROM trace_batches") == 1)

            let listed = try await Fixtures.sleeper(["findings", "--status", "open", "--format", "json", "--database-url", url], environment: env)
            #expect(listed.stdout.contains("\"target\": \"exfil.attacker.example\""), "\(listed.stdout)")
            let marked = try await Fixtures.sleeper(
                [
                    "findings", "mark", "1", "--status", "false-positive", "--reason", "red-team exercise RT-12", "--by", "soc",
                    "--database-url", url,
                ], environment: Self.decisionEnvironment)
            #expect(marked.status == 0, "\(marked.stderr)")
            #expect(marked.stdout.contains("recorded evidence 2: pass for SLP-RUNTIME-MONITOR on agent:support-bot"), "\(marked.stdout)")
            await #expect(try Self.score("bot-key", url) < after)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'finding.mark' AND detail::text LIKE '%red-team exercise RT-12%'") == 1)

            let clean = try await Self.traces(dir, "triage.jsonl", ["--traces", "50", "--agent", "triage-bot", "--tools", "classify", "--hosts", "api.tickets.example"])
            let seen = try await Fixtures.sleeper(["observe", "import", clean.path, "--database-url", url], environment: env)
            #expect(seen.stdout.contains("recorded evidence 3: pass for SLP-RUNTIME-MONITOR on agent:triage-bot"), "\(seen.stdout)")

            // A day later the quiet triage bot calls a tool it never called: listed for review, the check still passes.
            let later = dir.appending(path: "triage-later.jsonl")
            let made = try await Fixtures.python(
                "synth-traces",
                [
                    "--traces", "20", "--agent", "triage-bot", "--tools", "summarize", "--hosts", "api.tickets.example",
                    "--start", String(Self.start + 2 * 86400), "--out", later.path,
                ])
            #expect(made.ok, "\(made.output)")
            let changed = try await Fixtures.sleeper(["observe", "import", later.path, "--baseline-days", "1", "--database-url", url], environment: env)
            #expect(changed.stdout.contains("triage-bot new-after-baseline summarize: 20 trace(s)"), "\(changed.stdout)")
            #expect(!changed.stdout.contains("recorded evidence"), "new behaviour inside the envelope does not fail the check")

            let broken = dir.appending(path: "broken.json")
            try Data("{\"resourceSpans\": [".utf8).write(to: broken)
            let refused = try await Fixtures.sleeper(["observe", "import", broken.path, "--database-url", url], environment: env)
            #expect(refused.status == 1 && refused.stderr.contains("not JSON"), "\(refused.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 3)
        }
    }

    @Test("spans count once however they arrive: a file read again after it grew counts only the spans appended; read again whole, nothing")
    func spansCountOnce() async throws {
        let env = TestClock.environment()
        func total(_ db: Database) async throws -> Int { try await db.count("SELECT coalesce(sum(count), 0)::bigint FROM observed_edges") }
        // What the whole file counts when read once, on a fresh store.
        let (reference, dir): (Int, URL) = try await TestDatabase.withCatalogs { db, url in
            let (dir, _) = try await ExportStoreTests.imported(Self.inventory, url: url, environment: env)
            let first = try await Self.traces(dir, "first.jsonl", ["--traces", "60", "--seed", "1"])
            let more = try await Self.traces(dir, "more.jsonl", ["--traces", "40", "--seed", "2"])
            var grown = try Data(contentsOf: first)
            grown.append(try Data(contentsOf: more))
            try grown.write(to: dir.appending(path: "grown.jsonl"))
            let once = try await Fixtures.sleeper(["observe", "import", dir.appending(path: "grown.jsonl").path, "--database-url", url], environment: env)
            #expect(once.status == 0, "\(once.stderr)")
            return (try await total(db), dir)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(reference > 0)
        try await TestDatabase.withCatalogs { db, url in
            _ = try await ExportStoreTests.imported(Self.inventory, url: url, environment: env)
            #expect(try await Fixtures.sleeper(["observe", "import", dir.appending(path: "first.jsonl").path, "--database-url", url], environment: env).status == 0)
            let afterFirst = try await total(db)
            #expect(afterFirst > 0 && afterFirst < reference)
            // The export grew: only what was appended counts.
            let grown = try await Fixtures.sleeper(["observe", "import", dir.appending(path: "grown.jsonl").path, "--database-url", url], environment: env)
            #expect(grown.status == 0 && grown.stdout.contains("span(s) imported before were not counted again"), "\(grown.stdout) \(grown.stderr)")
            #expect(try await total(db) == reference, "the first file then the grown one count what the grown one counts alone")
            // The appended part on its own: every span was seen; nothing counted, no failure.
            let more = try await Fixtures.sleeper(["observe", "import", dir.appending(path: "more.jsonl").path, "--database-url", url], environment: env)
            #expect(more.status == 0 && more.stdout.contains("were imported before: nothing was counted twice"), "\(more.stdout) \(more.stderr)")
            #expect(try await total(db) == reference)
        }
    }

    @Test("POST /v1/traces takes what a Collector sends; GET /v1/findings lists; POST /v1/findings/{id} decides; a viewer cannot send traces")
    func overHTTP() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let inventory = dir.appending(path: "inventory.yaml")
            try Data(Self.inventory.utf8).write(to: inventory)
            #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: TestClock.environment()).status == 0)
            let store = TokenStore(db)
            let editor = try await store.create(name: "collector", role: .editor, by: "test")
            let viewer = try await store.create(name: "dash", role: .viewer, by: "test")
            let server = try await ServerProcess(databaseURL: url, environment: Self.decisionEnvironment)
            defer { server.terminate() }
            let body = try await Data(contentsOf: try Self.traces(dir, "t.jsonl", ["--traces", "300", "--trigger", "zq omega", "--fired", "4", "--per-line", "1000"]))
            let reply = try await server.call("POST", "/v1/traces", token: editor, body: body)
            #expect(reply.status == 200, "\(reply.body)")
            let sleeper = try #require((reply.json as? [String: Any])?["sleeper"] as? [String: Any])
            let findings = (sleeper["findings"] as? [[String: Any]]) ?? []
            #expect(findings.first?["target"] as? String == "exfil.attacker.example")
            #expect(((findings.first?["trigger_candidates"] as? [[String: Any]])?.first?["ngram"] as? String) == "zq omega", "\(findings)")
            #expect((sleeper["recorded"] as? [Any])?.count == 1)
            let page = try await server.call("GET", "/v1/findings?status=open", token: viewer)
            #expect(page.status == 200 && page.body.contains("exfil.attacker.example"), "\(page.body)")
            let decided = try await server.call("POST", "/v1/findings/1", token: editor, body: Data(#"{"status": "acknowledged", "reason": "incident INC-7 opened"}"#.utf8))
            #expect(decided.status == 200 && decided.body.contains("\"acknowledged\""), "\(decided.body)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE result = 'pass' AND note LIKE '%incident INC-7 opened%'") == 1)
            let noReason = try await server.call("POST", "/v1/findings/1", token: editor, body: Data(#"{"status": "open"}"#.utf8))
            #expect(noReason.status == 400 && noReason.body.contains("reason"), "\(noReason.body)")
            let forbidden = try await server.call("POST", "/v1/traces", token: viewer, body: body)
            #expect(forbidden.status == 403)
        }
    }

    @Test("an MCP config's remote server URL is in its client's envelope: calls to it are no finding, calls elsewhere are")
    func mcpServerEndpoints() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let config = dir.appending(path: ".mcp.json")
            try Data(
                (#"{"mcpServers": {"jira": {"type": "http", "url": "https://mcp.atlassian.example/v1/sse", "headers": {"Authorization": "Bearer ${JIRA_TOKEN}"}},"#
                    + #" "files": {"command": "npx", "args": ["server-files"]}}}"#).utf8
            ).write(to: config)
            let imported = try await Fixtures.sleeper(["import", config.path, "--source", "mcp:dev-laptop", "--database-url", url], environment: TestClock.environment())
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(try await db.count("SELECT count(*) FROM agents WHERE key = 'mcp:dev-laptop/jira' AND endpoints = '{https://mcp.atlassian.example/v1/sse}'") == 1)
            let envelope = try #require(try await RuntimeStore(db).envelopes().first { $0.agent == "mcp:dev-laptop" })
            #expect(envelope.allows(host: "mcp.atlassian.example") && !envelope.allows(host: "exfil.attacker.example"))
            let traces = try await Self.traces(
                dir, "client.jsonl",
                [
                    "--traces", "30", "--agent", "mcp:dev-laptop", "--hosts", "mcp.atlassian.example",
                    "--trigger", "per aspera mode", "--fired", "3",
                ])
            let run = try await Fixtures.sleeper(["observe", "import", traces.path, "--database-url", url], environment: TestClock.environment())
            #expect(run.stdout.contains("undeclared-host exfil.attacker.example") && !run.stdout.contains("undeclared-host mcp.atlassian.example"), "\(run.stdout)")
        }
    }

    @Test("the envelope in the inventory: endpoints that are not hosts or URLs are refused with their path; tools stored, absent tools left undeclared")
    func envelopeFields() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let bad = dir.appending(path: "bad.yaml")
            try Data("resources: [{key: r, tier: 1, endpoints: [\"not a host\"]}]\n".utf8).write(to: bad)
            let refused = try await Fixtures.sleeper(["import", bad.path, "--database-url", url], environment: TestClock.environment())
            #expect(refused.status == 1 && refused.stderr.contains("resources[0].endpoints[0]: 'not a host' is not a host"), "\(refused.stderr)")
            let good = dir.appending(path: "inventory.yaml")
            try Data(Self.inventory.utf8).write(to: good)
            #expect(try await Fixtures.sleeper(["import", good.path, "--database-url", url], environment: TestClock.environment()).status == 0)
            #expect(try await db.count("SELECT count(*) FROM agents WHERE key = 'support-bot' AND tools = '{search_kb,create_ticket,lookup_order}'") == 1)
            #expect(try await db.count("SELECT count(*) FROM agents WHERE key = 'triage-bot' AND tools IS NULL") == 1)
            #expect(try await db.count("SELECT count(*) FROM resources WHERE key = 'payments' AND endpoints = '{*.payments.example}'") == 1)
        }
    }
}
