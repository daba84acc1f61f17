import Foundation
import PostgresNIO
import SleeperCore
import SleeperStore
import Testing

/// One current truth: what-if runs stay what-ifs, concurrent changes lose nothing, a failed
/// rescore leaves the write standing, retries do not duplicate, and answers do not depend on the
/// day the tests run.
@Suite("Trustworthy state", .timeLimit(.minutes(8)))
struct TrustworthyStateTests {
    static let models = [
        "llama-3-8b", "acme-support-ft", "code-review-ft", "ops-agent-model", "sales-merge", "triage-lora",
        "finance-qa", "hub-coder-7b", "embed-small", "distilled-router", "mistral-7b", "acme-support-ft-q4",
    ]

    /// Every credential's score in a run, by key.
    static func scores(_ db: Database, run: Int) async throws -> [String: Int] {
        Dictionary(
            uniqueKeysWithValues: try await ScoreRuns(db).exposures(run: run, top: nil, band: nil, minScore: nil, owner: nil, resource: nil)
                .map { ($0.credential, $0.score) })
    }

    /// The current run equals a full run made now, credential for credential.
    static func expectCurrentEqualsFullRun(_ db: Database, asOf: Date, _ comment: String) async throws {
        let latest = try #require(try await ScoreRuns(db).latestRunID())
        let full = try await ScoreRuns(db).run(asOf: asOf, weights: try ScoreRuns.bundledWeights(), whatIf: true)
        let (a, b) = (try await scores(db, run: latest), try await scores(db, run: full.id))
        #expect(a.count == b.count && a.count > 5)
        let differing = a.keys.filter { a[$0] != b[$0] }.sorted()
        #expect(differing.isEmpty, "\(comment): run \(latest) differs from a full run on \(differing.map { "\($0) \(a[$0] ?? -1)≠\(b[$0] ?? -1)" })")
    }

    @Test("a run as of another time is a what-if: never current, never a base, absent from history; answers cite their run")
    func whatIfRuns() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let now = TestClock.environment()
            let current = try await Fixtures.sleeper(["score", "--database-url", url], environment: now)
            #expect(current.status == 0, "\(current.stderr)")
            let currentID = try #require(try await ScoreRuns(db).latestRunID())
            let future = Timestamps.formatDay(TestClock.now.addingTimeInterval(300 * TestClock.day))
            let whatIf = try await Fixtures.sleeper(["score", "--as-of", future, "--database-url", url], environment: now)
            #expect(whatIf.status == 0, "\(whatIf.stderr)")
            #expect(whatIf.stdout.contains("what-if run \(currentID + 1) (not the current run)"))
            #expect(try await ScoreRuns(db).latestRunID() == currentID, "the what-if run must not become the latest")

            let exposure = try await Fixtures.sleeper(["exposure", "--top", "3", "--database-url", url], environment: now)
            #expect(exposure.stdout.hasPrefix("run \(currentID) as of \(Timestamps.format(TestClock.now)), made "), "\(exposure.stdout)")
            let asked = try await Fixtures.sleeper(["exposure", "--run", String(currentID + 1), "--top", "3", "--database-url", url], environment: now)
            #expect(asked.stdout.hasPrefix("run \(currentID + 1) (what-if) as of \(future)"), "\(asked.stdout)")

            // A change rescores over the current run, not over the what-if.
            let add = try await Fixtures.sleeper(
                [
                    "evidence", "add", "--subject", "model:code-review-ft", "--control", "SLP-BACKDOOR-SCAN",
                    "--result", "fail", "--database-url", url,
                ], environment: now)
            #expect(add.status == 0, "\(add.stderr)")
            let rescored = try #require(try await ScoreRuns(db).latestRunID())
            #expect(rescored == currentID + 2)
            #expect(try await db.count("SELECT base_run_id FROM score_runs WHERE id = \(rescored)") == currentID)
            try await Self.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "after a what-if and a change")

            // The report's header and trend know only current runs, and say as of when.
            let report = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url], environment: now)
            #expect(report.stdout.contains("scoring run \(rescored) as of \(Timestamps.format(TestClock.now))"), "\(report.stdout.prefix(400))")
            #expect(!report.stdout.contains("| \(currentID + 1) |"), "a what-if run is no part of the trend")
        }
    }

    @Test("exposure and report warn when the current run is older than the limit (SLEEPER_MAX_RUN_AGE)")
    func staleRuns() async throws {
        try await ExportStoreTests.withEstate { db, url in
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: TestClock.environment())
            let later = TestClock.environment(TestClock.now.addingTimeInterval(3 * TestClock.day))
            let stale = try await Fixtures.sleeper(["exposure", "--top", "1", "--database-url", url], environment: later)
            #expect(stale.status == 0)
            #expect(stale.stderr.contains("warning: run"), "\(stale.stderr)")
            #expect(stale.stderr.contains("is 3 d old"), "\(stale.stderr)")
            let report = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url], environment: later)
            #expect(report.stdout.contains("**Warning:** run"))
            let allowed = try await Fixtures.sleeper(
                ["exposure", "--top", "1", "--database-url", url],
                environment: later.merging(["SLEEPER_MAX_RUN_AGE": "100"]) { $1 })
            #expect(!allowed.stderr.contains("warning"), "\(allowed.stderr)")
            let bad = try await Fixtures.sleeper(["exposure", "--database-url", url], environment: ["SLEEPER_NOW": "next tuesday"])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("SLEEPER_NOW='next tuesday' is not a date"))
        }
    }

    @Test("scoring, gaps, coverage, diff and report answer for the pinned now, a year apart, whatever the day the tests run")
    func twoNowsAYearApart() async throws {
        try await ScoringStoreTests.withExample { db in
            let url = TestDatabase.url(for: db.settings)
            let first = TestClock.environment()
            let yearLater = TestClock.environment(TestClock.now.addingTimeInterval(365 * TestClock.day))
            let review = try await Fixtures.sleeper(
                [
                    "evidence", "add", "--subject", "agent:email-triage", "--control", "SLP-HITL", "--result", "pass",
                    "--database-url", url,
                ], environment: first)
            #expect(review.status == 0, "\(review.stderr)")

            // Now: human review in force, the worked example's 27.
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: first)
            let now = try await Fixtures.sleeper(["exposure", "--format", "csv", "--database-url", url], environment: first)
            #expect(now.stdout.contains("payments-key,27,"), "\(now.stdout)")
            let gapsNow = try await Fixtures.sleeper(["gaps", "--subject", "agent:email-triage", "--format", "csv", "--database-url", url], environment: first)
            #expect(!gapsNow.stdout.contains("SLP-HITL"), "\(gapsNow.stdout)")
            let coverageNow = try await Fixtures.sleeper(["coverage", "--framework", "owasp-agentic", "--format", "json", "--database-url", url], environment: first)
            let reportNow = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url], environment: first)
            #expect(reportNow.stdout.contains("# Backdoor exposure review, \(Timestamps.formatDay(TestClock.now))"))

            // A year later: the review lapsed (180 days and 30 of grace), the key went unused.
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: yearLater)
            let later = try await Fixtures.sleeper(["exposure", "--format", "csv", "--database-url", url], environment: yearLater)
            let line = try #require(later.stdout.split(separator: "\r\n").first { $0.hasPrefix("payments-key,") })
            let score = try #require(Int(line.split(separator: ",")[1]))
            #expect(score > 27, "\(line)")
            let gapsLater = try await Fixtures.sleeper(["gaps", "--subject", "agent:email-triage", "--format", "csv", "--database-url", url], environment: yearLater)
            #expect(gapsLater.stdout.contains("SLP-HITL"), "\(gapsLater.stdout)")
            let coverageLater = try await Fixtures.sleeper(["coverage", "--framework", "owasp-agentic", "--format", "json", "--database-url", url], environment: yearLater)
            #expect(coverageNow.stdout != coverageLater.stdout, "coverage must move when evidence lapses")
            let diff = try await Fixtures.sleeper(["exposure", "diff", "--since", "1", "--format", "csv", "--database-url", url], environment: yearLater)
            #expect(diff.stdout.contains("payments-key,27,\(score),"), "\(diff.stdout)")
            let reportLater = try await Fixtures.sleeper(["report", "--what-if", "0", "--database-url", url], environment: yearLater)
            #expect(reportLater.stdout.contains("# Backdoor exposure review, \(Timestamps.formatDay(TestClock.now.addingTimeInterval(365 * TestClock.day)))"))
            #expect(reportLater.stdout != reportNow.stdout)
        }
    }

    @Test("concurrent evidence and imports from processes and HTTP requests lose nothing: the current run equals a full run, trial after trial")
    func concurrentChanges() async throws {
        let now = TestClock.environment()
        try await ServerTests.withServer(environment: now) { server, tokens, db in
            let url = TestDatabase.url(for: db.settings)
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: now)
            let dir = try ExportStoreTests.scratch()
            var rng = IncrementalStoreTests.SplitMix(state: 12)
            for trial in 0..<5 {
                let picks = (0..<6).map { _ in (Self.models[Int(rng.next() % UInt64(Self.models.count))], rng.next() % 2 == 0 ? "fail" : "pass") }
                var commands = picks.prefix(3).map { model, result in
                    ["evidence", "add", "--subject", "model:\(model)", "--control", "SLP-BACKDOOR-SCAN", "--result", result, "--database-url", url]
                }
                // An import in the same moment: a resource's tier moves the impact of every credential granted it.
                let change = dir.appending(path: "tier-\(trial).json")
                try Data(#"{"resources": [{"key": "ticketing", "name": "Support ticketing", "owner": "support-ops", "tier": \#(trial % 2 == 0 ? 0 : 2)}]}"#.utf8).write(to: change)
                commands.append(["import", change.path, "--database-url", url])
                async let processes = Fixtures.sleeperInParallel(commands, environment: now)
                let replies = try await withThrowingTaskGroup(of: Int.self) { group in
                    for (model, result) in picks.suffix(3) {
                        group.addTask {
                            let body = "{\"subject\": \"model:\(model)\", \"control\": \"SLP-BACKDOOR-SCAN\", \"result\": \"\(result)\"}"
                            return try await server.call("POST", "/v1/evidence", token: tokens.editor, body: Data(body.utf8)).status
                        }
                    }
                    group.addTask {
                        let body = #"{"resources": [{"key": "crm", "name": "CRM (Salesforce org)", "owner": "sales-ops", "tier": \#(trial % 2 == 0 ? 3 : 1)}]}"#
                        return try await server.call("POST", "/v1/inventory/import", token: tokens.editor, body: Data(body.utf8)).status
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(replies == [201, 201, 201, 201], "trial \(trial)")
                for run in try await processes { #expect(run.status == 0, "trial \(trial): \(run.stderr)") }
                try await Self.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "trial \(trial)")
            }
        }
    }

    @Test("scoring runs started together from processes and HTTP requests all succeed, queued one after another, and the current run equals a full run")
    func concurrentScoringRuns() async throws {
        let now = TestClock.environment()
        try await ServerTests.withServer(environment: now) { server, tokens, db in
            let url = TestDatabase.url(for: db.settings)
            let runsBefore = try await db.count("SELECT count(*) FROM score_runs WHERE NOT what_if")
            for trial in 0..<3 {
                async let processes = Fixtures.sleeperInParallel(Array(repeating: ["score", "--database-url", url], count: 3), environment: now)
                let replies = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<4 { group.addTask { try await server.call("POST", "/v1/scores", token: tokens.editor).status } }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(replies == [201, 201, 201, 201], "trial \(trial): \(replies)")
                for run in try await processes { #expect(run.status == 0, "trial \(trial): \(run.stderr)") }
                try await Self.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "trial \(trial)")
            }
            // Each of the 21 asked for a run and got one of its own (plus the what-if runs compared against).
            #expect(try await db.count("SELECT count(*) FROM score_runs WHERE NOT what_if") == runsBefore + 21)
        }
    }

    @Test("a failed rescore leaves the committed write standing: exit 0 with a warning, 201 with the error")
    func failedRescore() async throws {
        let now = TestClock.environment()
        try await ServerTests.withServer(environment: now) { server, tokens, db in
            let url = TestDatabase.url(for: db.settings)
            try await db.client.query(
                """
                CREATE FUNCTION refuse_runs() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'injected failure'; END $$
                """, logger: db.logger)
            try await db.client.query("CREATE TRIGGER refuse_runs BEFORE INSERT ON score_runs FOR EACH ROW EXECUTE FUNCTION refuse_runs()", logger: db.logger)
            let before = try await db.count("SELECT count(*) FROM evidence")
            let add = try await Fixtures.sleeper(
                [
                    "evidence", "add", "--subject", "model:code-review-ft", "--control", "SLP-BACKDOOR-SCAN",
                    "--result", "fail", "--database-url", url,
                ], environment: now)
            #expect(add.status == 0, "\(add.stderr)")
            #expect(add.stdout.contains("recorded"), "\(add.stdout)")
            #expect(add.stderr.contains("warning: the change is committed, but rescoring failed"), "\(add.stderr)")
            #expect(add.stderr.contains("injected failure"))
            let reply = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data(#"{"subject": "model:ops-agent-model", "control": "SLP-BACKDOOR-SCAN", "result": "fail"}"#.utf8))
            #expect(reply.status == 201, "\(reply.body)")
            let rescore = try #require((reply.json as? [String: Any])?["rescore"] as? [String: Any])
            #expect(rescore["failed"] as? Bool == true)
            #expect((rescore["error"] as? String)?.contains("injected failure") == true)
            #expect(try await db.count("SELECT count(*) FROM evidence") == before + 2)
        }
    }

    @Test("a POST retried with the same Idempotency-Key gets the first answer; another request with that key is refused")
    func idempotentRetries() async throws {
        try await ServerTests.withServer(environment: TestClock.environment()) { server, tokens, db in
            let before = try await db.count("SELECT count(*) FROM evidence")
            let body = Data(#"{"subject": "agent:email-triage", "control": "SLP-HITL", "result": "pass"}"#.utf8)
            let first = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: body, headers: ["Idempotency-Key": "k-1"])
            #expect(first.status == 201, "\(first.body)")
            let retry = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: body, headers: ["Idempotency-Key": "k-1"])
            #expect(retry.status == 201)
            #expect(retry.body == first.body)
            #expect(retry.headers["idempotent-replayed"] == "true")
            #expect(try await db.count("SELECT count(*) FROM evidence") == before + 1)
            let other = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data(#"{"subject": "agent:refund-bot", "control": "SLP-HITL", "result": "pass"}"#.utf8),
                headers: ["Idempotency-Key": "k-1"])
            #expect(other.status == 422, "\(other.body)")
            // A refused request frees its key for the corrected retry.
            let refused = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data(#"{"subject": "agent:nobody", "control": "SLP-HITL", "result": "pass"}"#.utf8),
                headers: ["Idempotency-Key": "k-2"])
            #expect(refused.status == 400)
            let corrected = try await server.call(
                "POST", "/v1/evidence", token: tokens.editor,
                body: Data(#"{"subject": "agent:refund-bot", "control": "SLP-HITL", "result": "pass"}"#.utf8),
                headers: ["Idempotency-Key": "k-2"])
            #expect(corrected.status == 201, "\(corrected.body)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == before + 2)
        }
    }

    @Test("a value outside a closed set in a row is a named error, not a crash")
    func unexpectedRowValues() async throws {
        try await ExportStoreTests.withEstate { db, url in
            try await db.client.query(
                """
                DO $$ DECLARE c text; BEGIN
                  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'credentials'::regclass AND contype = 'c' LOOP
                    EXECUTE 'ALTER TABLE credentials DROP CONSTRAINT ' || quote_ident(c); END LOOP; END $$
                """, logger: db.logger)
            try await db.client.query("UPDATE credentials SET kind = 'bogus' WHERE key = 'ci-deploy-key'", logger: db.logger)
            let run = try await Fixtures.sleeper(["inventory", "credentials", "--database-url", url])
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.contains("sleeper: the database holds 'bogus', which is not a CredentialKind"), "\(run.stderr)")
        }
    }

    @Test("sleeper --version prints the build's version")
    func version() async throws {
        let run = try await Fixtures.sleeper(["--version"])
        #expect(run.status == 0)
        #expect(run.stdout == SleeperVersion.current + "\n")
    }

    @Test("evidence import of [], {} or another tool's report is refused and writes nothing, not even an audit entry")
    func emptyEvidenceImports() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let dir = try ExportStoreTests.scratch()
            let (records, audits) = (try await db.count("SELECT count(*) FROM evidence"), try await db.count("SELECT count(*) FROM audit_log"))
            for (name, text) in [
                ("empty-list.json", "[]"), ("empty-object.json", "{}"), ("evidence-empty.yaml", "evidence: []"),
                ("modelscan.json", #"{"summary": {"total_issues": 0}, "issues": [], "errors": []}"#),
            ] {
                let file = dir.appending(path: name)
                try Data(text.utf8).write(to: file)
                let run = try await Fixtures.sleeper(["evidence", "import", file.path, "--database-url", url])
                #expect(run.status == 1, "\(name): \(run.status) \(run.stderr)")
                #expect(run.stderr.contains("no evidence records in \(file.path)"), "\(name): \(run.stderr)")
            }
            #expect(try await db.count("SELECT count(*) FROM evidence") == records)
            #expect(try await db.count("SELECT count(*) FROM audit_log") == audits)
        }
    }
}
