import Foundation
import SleeperCore
import SleeperStore
import Testing

/// A re-import leaves out every entity whose content hash is unchanged, and large edge lists are
/// written without the table's indexes: neither may change what is stored.
@Suite("Import: unchanged entities skipped, bulk edges", .timeLimit(.minutes(8)))
struct ImportSkipTests {
    static func estate(agents: Int, delivery: (Int) -> String, credential: (Int) -> Int = { $0 }) -> String {
        var lines = ["resources:", "  - {key: r0, name: R0, tier: 1}", "credentials:"]
        for i in 0..<agents { lines.append("  - {key: k\(i), kind: api_key, grants: [{resource: r0, action: read}]}") }
        lines.append("agents:")
        for i in 0..<agents { lines.append("  - {key: a\(i), holds: [{credential: k\(credential(i)), delivery: \(delivery(i))}]}") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func write(_ text: String) throws -> URL {
        let url = try ExportStoreTests.scratch().appending(path: "estate.yaml")
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The lines of an import's summary table for `table`: IN FILES, NEW (or ADDED), CHANGED, UNCHANGED, REMOVED.
    static func counts(_ stdout: String, _ table: String) -> [String] {
        let line = stdout.split(separator: "\n").first { $0.hasPrefix(table + " ") } ?? ""
        return line.split(separator: " ").dropFirst().map(String.init)
    }

    @Test("1,500 holds: loaded without indexes, their deliveries changed in bulk, then moved to other credentials; the keys, indexes and foreign keys are back each time")
    func bulkEdges() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: now) }
            func constraintsBack() async throws {
                #expect(
                    try await db.count(
                        """
                        SELECT count(*) FROM pg_constraint WHERE conrelid = 'holds'::regclass
                          AND conname IN ('holds_pkey', 'holds_agent_id_fkey', 'holds_credential_id_fkey')
                        """) == 3)
                #expect(try await db.count("SELECT count(*) FROM pg_indexes WHERE tablename = 'holds' AND indexname = 'holds_credential'") == 1)
            }
            let n = 1_500
            let first = try await sleeper(["import", try Self.write(Self.estate(agents: n) { _ in "runtime_env" }).path])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(Self.counts(first.stdout, "holds") == ["1500", "1500", "0", "0", "0"], "\(first.stdout)")
            try await constraintsBack()

            // Every delivery changes: 1,500 staged holds, as many as the table has.
            let second = try await sleeper(["import", try Self.write(Self.estate(agents: n) { $0 % 2 == 0 ? "brokered" : "tool_held" }).path])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(Self.counts(second.stdout, "holds") == ["1500", "0", "1500", "0", "0"], "\(second.stdout)")
            #expect(Self.counts(second.stdout, "credentials") == ["1500", "0", "0", "1500"], "credentials are left out unchanged: \(second.stdout)")
            #expect(try await db.count("SELECT count(*) FROM holds WHERE delivery = 'brokered'") == 750)
            try await constraintsBack()

            // Each agent now holds the next agent's credential: 1,500 removed and 1,500 added.
            let third = try await sleeper([
                "import",
                try Self.write(
                    Self.estate(
                        agents: n, delivery: { $0 % 2 == 0 ? "brokered" : "tool_held" },
                        credential: { ($0 + 1) % n })
                ).path,
            ])
            #expect(third.status == 0, "\(third.stderr)")
            #expect(Self.counts(third.stdout, "holds") == ["1500", "1500", "0", "0", "1500"], "\(third.stdout)")
            #expect(try await db.count("SELECT count(*) FROM holds h JOIN agents a ON a.id = h.agent_id JOIN credentials c ON c.id = h.credential_id WHERE a.key = 'a0' AND c.key = 'k1'") == 1)
            #expect(try await db.count("SELECT count(*) FROM holds") == n)
            try await constraintsBack()
            // A hold of a credential that does not exist is still refused by the re-created foreign key.
            await #expect(throws: (any Error).self) {
                try await db.client.query("INSERT INTO holds (agent_id, credential_id, delivery) SELECT id, -1, 'brokered' FROM agents LIMIT 1", logger: db.logger)
            }

            // One credential changes: only it is staged; the score of a full run is what it was.
            await #expect(try sleeper(["score"]).status == 0)
            var text = Self.estate(agents: n, delivery: { $0 % 2 == 0 ? "brokered" : "tool_held" }, credential: { ($0 + 1) % n })
            text = text.replacingOccurrences(
                of: "- {key: k7, kind: api_key, grants: [{resource: r0, action: read}]}",
                with: "- {key: k7, kind: api_key, grants: [{resource: r0, action: admin}]}")
            let fourth = try await sleeper(["import", try Self.write(text).path])
            #expect(fourth.status == 0, "\(fourth.stderr)")
            #expect(Self.counts(fourth.stdout, "credentials") == ["1500", "0", "0", "1500"], "\(fourth.stdout)")
            #expect(Self.counts(fourth.stdout, "grants") == ["1500", "1", "0", "1499", "1"], "\(fourth.stdout)")
            #expect(try await db.count("SELECT count(*) FROM grants g JOIN credentials c ON c.id = g.credential_id WHERE c.key = 'k7' AND g.action = 'admin'") == 1)
            try await TrustworthyStateTests.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "after a re-import that changed one credential")
        }
    }

    @Test("a hold that went with a key its source removed comes back when the key returns and the hand-written file is imported again")
    func cascadeClearsHashes() async throws {
        let now = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: now) }
            let report = { (users: [String]) in try SourceImportTests.report(users.map { SourceImportTests.row($0) }).path }
            await #expect(try sleeper(["import", try report(["svc-pay", "svc-ci"])]).status == 0)
            let hand = try Self.write(
                """
                agents:
                  - key: payments-agent
                    owner: payments-team
                    holds: [{credential: "aws:123456789012:svc-ci:key1", delivery: runtime_env}]
                """)
            await #expect(try sleeper(["import", hand.path]).status == 0)
            #expect(try await db.count("SELECT count(*) FROM agents WHERE key = 'payments-agent' AND content_hash IS NOT NULL") == 1)
            let again = try await sleeper(["import", hand.path])
            #expect(again.stdout.contains("nothing changed"), "\(again.stdout)")

            // The source drops svc-ci: its keys go, and the agent's hold of one with them.
            await #expect(try sleeper(["import", try report(["svc-pay"]), "--allow-removals"]).status == 0)
            #expect(try await db.count("SELECT count(*) FROM holds h JOIN agents a ON a.id = h.agent_id WHERE a.key = 'payments-agent'") == 0)
            // svc-ci is back; the hand-written file, unchanged, must bring the hold back.
            await #expect(try sleeper(["import", try report(["svc-pay", "svc-ci"])]).status == 0)
            let restored = try await sleeper(["import", hand.path])
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(Self.counts(restored.stdout, "holds") == ["1", "1", "0", "0", "0"], "\(restored.stdout)")
            #expect(try await db.count("SELECT count(*) FROM holds h JOIN agents a ON a.id = h.agent_id WHERE a.key = 'payments-agent'") == 1)
        }
    }

    @Test("scopes with quotes, backslashes, commas, braces and tabs are stored exactly as written")
    func scopesEscaped() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let file = try Self.write(
                #"""
                {"credentials": [{"key": "k", "kind": "api_key", "scopes": ["a\"b", "c\\d", "e,f", "{g}", "h\ti", "NULL", ""]}]}
                """#)
            let renamed = file.deletingPathExtension().appendingPathExtension("json")
            try FileManager.default.moveItem(at: file, to: renamed)
            let run = try await Fixtures.sleeper(["import", renamed.path, "--database-url", url])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(
                try await db.count(
                    #"""
                    SELECT count(*) FROM credentials WHERE key = 'k' AND scopes = ARRAY['a"b', E'c\\d', 'e,f', '{g}', E'h\ti', 'NULL', '']
                    """#) == 1)
        }
    }
}
