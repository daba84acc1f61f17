import Foundation
import SleeperCore
import SleeperStore
import Testing

/// The review report names what is wrong, cause first: the triggered runtime finding, the failed
/// check, the exposed credential and the credentials no model reaches — whatever their score.
@Suite("The review shows what is wrong", .timeLimit(.minutes(8)))
struct ReviewWhatIsWrongTests {
    static let more = """
        credentials:
          - {key: leaked-gcp-key, kind: service_account, owner: platform, exposed: true}
          - {key: idle-key, kind: api_key, owner: platform, grants: [{resource: tickets, action: read}]}
        agents:
          - {key: cron-runner, input_trust: fixed, holds: [{credential: cron-key, delivery: runtime_env}]}
          - {key: notes-bot, input_trust: internal, uses_models: [support-llm], holds: [{credential: notes-key, delivery: runtime_env}]}
        """
    static let cronKey = """
        credentials:
          - {key: cron-key, kind: api_key, owner: ops, grants: [{resource: kb, action: read}]}
          - {key: notes-key, kind: api_key, owner: ops}
        """

    @Test("a triggered exfiltration, a failed scan, an exposed key and unreachable keys are in the report, the finding first in what to do")
    func named() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let files = [("inventory.yaml", RuntimeObservationTests.inventory), ("more.yaml", Self.more), ("cron.yaml", Self.cronKey)].map { name, text in
                let file = dir.appending(path: name)
                try? Data(text.utf8).write(to: file)
                return file.path
            }
            let imported = try await Fixtures.sleeper(["import"] + files + ["--database-url", url], environment: env)
            #expect(imported.status == 0, "\(imported.stderr)")
            let scored = try await Fixtures.sleeper(["score", "--database-url", url], environment: env)
            #expect(scored.status == 0)
            #expect(scored.stdout.contains("4 credential(s) score 0 because no model reaches them (2 no holder, 1 no grant, 1 no model on any holder)"), "\(scored.stdout)")
            for (key, why) in [("idle-key", "no holder"), ("notes-key", "no grant"), ("cron-key", "no model on any holder")] {
                let explained = try await Fixtures.sleeper(["explain", "credential:\(key)", "--database-url", url], environment: env)
                #expect(explained.stdout.contains("no model reaches it (\(why))"), "\(key): \(explained.stdout.prefix(400))")
            }
            let listed = try await Fixtures.sleeper(["exposure", "--database-url", url], environment: env)
            #expect(listed.stderr.contains("note: 4 credential(s) score 0 because no model reaches them"), "\(listed.stderr)")
            let traces = try await RuntimeObservationTests.traces(dir, "traces.jsonl", ["--traces", "400", "--trigger", "per aspera mode", "--fired", "6"])
            #expect(try await Fixtures.sleeper(["observe", "import", traces.path, "--database-url", url], environment: env).status == 0)
            let failed = try await Fixtures.sleeper(
                [
                    "evidence", "add", "--subject", "model:support-llm", "--control", "SLP-BACKDOOR-SCAN", "--result", "fail",
                    "--note", "posix.system in tokenizer.pkl", "--database-url", url,
                ], environment: env)
            #expect(failed.status == 0, "\(failed.stderr)")

            let report = try await Fixtures.sleeper(["report", "--database-url", url], environment: env)
            #expect(report.status == 0, "\(report.stderr)")
            let md = report.stdout
            let wrong = try #require(md.range(of: "## What is wrong")).lowerBound
            let section = String(md[wrong...].prefix { _ in true }.split(separator: "\n## ").first ?? "")
            #expect(section.contains("1 open runtime finding(s), 2 failed check(s), 1 exposed credential(s), 4 credential(s) no model reaches"), "\(section)")
            #expect(section.contains("exfil.attacker.example") && section.contains("\"per aspera mode\""), "\(section)")
            #expect(section.contains("bot-key"), "the finding names the credential at stake: \(section)")
            #expect(section.contains("model:support-llm") && section.contains("SLP-BACKDOOR-SCAN") && section.contains("posix.system in tokenizer.pkl"), "\(section)")
            #expect(section.contains("leaked-gcp-key") && section.contains("none: no model reaches it"), "\(section)")
            #expect(section.contains("no holder") && section.contains("idle-key"), "\(section)")
            #expect(section.contains("no grant") && section.contains("notes-key"), "\(section)")
            #expect(section.contains("agent:support-bot") && section.contains("SLP-RUNTIME-MONITOR"), "the runtime check failed too: \(section)")
            #expect(section.contains("no model on any holder") && section.contains("cron-key"), "\(section)")

            // Subjects without an owner carry a score: a model, agent or dataset the riskiest credential it reaches.
            let unownedModel = md.split(separator: "\n").first { $0.hasPrefix("| model | support-llm | ") }
            #expect(unownedModel?.contains(" via bot-key |") == true, "\(String(describing: unownedModel))")
            // What to do: the cause first.
            let agenda = try #require(md.range(of: "## What to do")).upperBound
            let firstRow = md[agenda...].split(separator: "\n").first { $0.hasPrefix("| ") && !$0.hasPrefix("| do ") && !$0.hasPrefix("| ---") }
            #expect(firstRow?.contains("resolve runtime finding #1 on support-bot (undeclared-host exfil.attacker.example)") == true, "\(String(describing: firstRow))")
            #expect(md.contains("address the failed SLP-BACKDOOR-SCAN on model:support-llm"))
            // Never an item that changes nothing.
            for line in md.split(separator: "\n") where line.contains("valid evidence of") && line.contains(" → ") {
                if let m = line.firstMatch(of: /(\d+) → (\d+)\s*\|/) { #expect(m.1 != m.2 || line.contains("raw"), "\(line)") }
            }

            // The HTML report in a real browser (headless Chromium) at 1,400 px: nothing wider than
            // the window, no table cell cut off, every section there with its heading, the graph drawn.
            let html = dir.appending(path: "review.html")
            let made = try await Fixtures.sleeper(["report", "--format", "html", "--out", html.path, "--database-url", url], environment: env)
            #expect(made.status == 0, "\(made.stderr)")
            let sections = ["agenda", "wrong", "headline", "actions", "accepted", "exposures", "changes", "gaps", "expiring", "unowned"]
            let page = try await Fixtures.python(
                "check-report-page",
                [html.path, "--width", "1400", "--screenshot", dir.appending(path: "review.png").path]
                    + sections.flatMap { ["--section", $0] })
            #expect(page.ok && page.output.contains("\"scroll_width\": 1400") && page.output.contains("\"problems\": []"), "\(page.output)")
            #expect(FileManager.default.fileExists(atPath: dir.appending(path: "review.png").path))
        }
    }
}

/// One coverage number: `coverage`, the report and the OSCAL assessment results count the same
/// pairs, and an alias (`A2`) is shown but never counted or assessed on its own.
@Suite("One coverage number", .timeLimit(.minutes(8)))
struct OneCoverageTests {
    @Test("coverage --framework owasp-agentic, the report's coverage table and OSCAL agree; A2 is no finding of its own")
    func agree() async throws {
        try await ExportStoreTests.withEstate { _, url in
            let env = TestClock.environment()
            let cli = try await Fixtures.sleeper(["coverage", "--framework", "owasp-agentic", "--format", "json", "--database-url", url], environment: env)
            #expect(cli.status == 0, "\(cli.stderr)")
            let overall = try #require((try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])?["overall"] as? [String: Any])
            let covered = try #require(overall["covered"] as? Int), applicable = try #require(overall["applicable"] as? Int)
            let report = try await Fixtures.sleeper(["report", "--database-url", url], environment: env)
            let row = report.stdout.split(separator: "\n").first { $0.contains("Agentic") && $0.contains(" / ") && $0.hasPrefix("| OWASP") }
            #expect(row?.contains("| \(covered) / \(applicable) |") == true, "coverage says \(covered) / \(applicable); the report: \(String(describing: row))")
            let oscal = try await Fixtures.sleeper(["export", "oscal-ar", "--database-url", url], environment: env)
            #expect(oscal.status == 0, "\(oscal.stderr)")
            #expect(!oscal.stdout.contains("\"control-id\": \"a2\"") && !oscal.stdout.contains("\"control-id\": \"A2\""), "A2 assessed on its own")
        }
    }
}

/// Traces that name no agent of the inventory monitored nothing, and no run may look like a pass.
@Suite("Nothing monitored is said", .timeLimit(.minutes(8)))
struct NothingMonitoredTests {
    @Test("traces of 'Support Agent v2' only: observe import exits 1 saying nothing was monitored, and records nothing")
    func nothingMonitored() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            let (dir, inventory) = try await ExportStoreTests.imported(RuntimeObservationTests.inventory, url: url, environment: env, scored: false)
            let traces = try await RuntimeObservationTests.traces(dir, "v2.jsonl", ["--traces", "50", "--agent", "Support Agent v2"])
            let run = try await Fixtures.sleeper(["observe", "import", traces.path, "--database-url", url], environment: env)
            #expect(run.status == 1, "\(run.stdout) \(run.stderr)")
            #expect(run.stderr.contains("nothing was monitored") && run.stderr.contains("'Support Agent v2'"), "\(run.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 0)

            // The agent declares the name its traces use: the same file now monitors it.
            try Data(
                RuntimeObservationTests.inventory.replacingOccurrences(
                    of: "{key: support-bot, input_trust: untrusted,",
                    with: "{key: support-bot, trace_names: [\"Support Agent v2\"], input_trust: untrusted,"
                ).utf8
            ).write(to: inventory)
            #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: env).status == 0)
            let again = try await Fixtures.sleeper(["observe", "import", traces.path, "--database-url", url], environment: env)
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
            #expect(again.stdout.contains("read ") && !again.stdout.contains("not in the inventory"), "\(again.stdout)")
            #expect(try await db.count("SELECT count(*) FROM observed_edges WHERE agent_key = 'support-bot'") > 0)
        }
    }
}

/// Findings rank by risk, not by volume.
@Suite("Findings riskiest first", .timeLimit(.minutes(8)))
struct FindingRankTests {
    @Test("a benign undeclared host in hundreds of traces sits below a triggered exfiltration in 6")
    func ranked() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { _, url in
            let (dir, _) = try await ExportStoreTests.imported(RuntimeObservationTests.inventory, url: url, environment: env)
            // The noisy one is also the most recent (listed newest first, it would come first).
            let noisy = dir.appending(path: "noisy.jsonl")
            let made = try await Fixtures.python(
                "synth-traces",
                [
                    "--traces", "300", "--agent", "triage-bot", "--hosts", "api.tickets.example,metrics.vendor.example",
                    "--start", String(RuntimeObservationTests.start + 86400), "--out", noisy.path,
                ])
            #expect(made.ok, "\(made.output)")
            let fired = try await RuntimeObservationTests.traces(dir, "fired.jsonl", ["--traces", "300", "--trigger", "per aspera mode", "--fired", "6"])
            for file in [noisy, fired] {
                let run = try await Fixtures.sleeper(["observe", "import", file.path, "--database-url", url], environment: env)
                #expect(run.status == 0, "\(run.stderr)")
            }
            let listed = try await Fixtures.sleeper(["findings", "--status", "open", "--database-url", url], environment: env)
            let rows = listed.stdout.split(separator: "\n").dropFirst().filter { $0.contains("undeclared-host") }
            #expect(rows.count == 2, "\(listed.stdout)")
            #expect(rows.first?.contains("exfil.attacker.example") == true && rows.last?.contains("metrics.vendor.example") == true, "\(listed.stdout)")
        }
    }
}
