import Foundation
import PostgresNIO
import SleeperCore
import SleeperStore
import Testing

/// The service never wedges under concurrent writes, and a committed change is always scored.
@Suite("Never wedged, never unscored", .timeLimit(.minutes(8)))
struct NeverWedgedTests {
    static let models = TrustworthyStateTests.models

    @Test("more concurrent writes than pooled connections (2× and 4× a pool of 4): every request answers within 60 s, each record once, readiness holds, and the current run equals a full run")
    func moreWritersThanConnections() async throws {
        let now = TestClock.environment()
        try await ServerTests.withServer(extra: ["--pool", "4"], environment: now) { server, tokens, db in
            let url = TestDatabase.url(for: db.settings)
            _ = try await Fixtures.sleeper(["score", "--database-url", url], environment: now)
            for (trial, writers) in [8, 16, 16].enumerated() {
                let before = try await db.count("SELECT count(*) FROM evidence")
                let started = ContinuousClock.now
                let replies = try await withThrowingTaskGroup(of: Int.self) { group in
                    for i in 0..<writers {
                        group.addTask {
                            let body = "{\"subject\": \"model:\(Self.models[i % Self.models.count])\", \"control\": \"SLP-BACKDOOR-SCAN\", \"result\": \"\(i % 2 == 0 ? "fail" : "pass")\"}"
                            do { return try await server.call("POST", "/v1/evidence", token: tokens.editor, body: Data(body.utf8), seconds: 60).status } catch { return -1 }
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                let took = ContinuousClock.now - started
                #expect(replies.allSatisfy { $0 == 201 }, "trial \(trial), \(writers) writers: \(replies.sorted()) in \(took): \(server.log.suffix(2000))")
                #expect(try await db.count("SELECT count(*) FROM evidence") == before + writers, "each record exactly once")
                #expect(try await server.call("GET", "/readyz", seconds: 10).status == 200, "the service is ready after the burst")
                #expect(try await db.count("SELECT count(*) FROM rescores_owed WHERE settled_at IS NULL") == 0, "every change scored")
                try await TrustworthyStateTests.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "trial \(trial), \(writers) writers")
                print("\(writers) concurrent POST /v1/evidence against a pool of 4: all answered in \(took)")
            }
            // A read after the burst is answered at once: no pooled connection was left waiting.
            #expect(try await server.call("GET", "/v1/exposures?limit=3", token: tokens.viewer, seconds: 10).status == 200)
        }
    }

    @Test("concurrent recalls of one subject: one is recorded, the others answer 409 naming it; identical concurrent acceptances are one acceptance")
    func concurrentRecallsAndAcceptances() async throws {
        let now = TestClock.environment()
        try await ServerTests.withServer(environment: now) { server, tokens, db in
            for trial in 0..<3 {
                let subject = "model:\(Self.models[trial + 1])"
                let replies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for _ in 0..<5 {
                        group.addTask {
                            let r = try await server.call(
                                "POST", "/v1/recalls", token: tokens.editor,
                                body: Data("{\"subject\": \"\(subject)\", \"reason\": \"trigger found\", \"by\": \"ciso\"}".utf8))
                            return (r.status, r.body)
                        }
                    }
                    return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
                }
                let statuses = replies.map(\.0).sorted()
                #expect(statuses.filter { $0 == 409 }.count == 4 && statuses.filter { (200...201).contains($0) }.count == 1, "trial \(trial): \(replies)")
                let recall = try await db.count("SELECT id FROM recalls WHERE subject_kind || ':' || subject_key = '\(subject)' AND released_at IS NULL")
                for (status, body) in replies where status == 409 { #expect(body.contains("recall #\(recall)"), "\(body)") }
            }
            // Five identical acceptances at once are one acceptance (the same id, one audit entry).
            let until = Timestamps.formatDay(TestClock.now.addingTimeInterval(5 * TestClock.day))
            let body = "{\"subject\": \"agent:email-triage\", \"control\": \"SLP-HITL\", \"until\": \"\(until)\", \"by\": \"ciso\", \"reason\": \"vendor fix due\"}"
            let accepted = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        let r = try await server.call("POST", "/v1/acceptances", token: tokens.editor, body: Data(body.utf8))
                        return (r.status, r.body)
                    }
                }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            #expect(accepted.allSatisfy { $0.0 == 201 }, "\(accepted)")
            let ids = Set(accepted.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.1.utf8)) as? [String: Any])?["id"] as? Int })
            #expect(ids.count == 1, "\(accepted.map(\.1))")
            #expect(try await db.count("SELECT count(*) FROM risk_acceptances WHERE subject_key = 'email-triage'") == 1)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'risk.accept'") == 1)
        }
    }

    @Test("a committed change whose rescore was cut short is owed one: the next command settles it first, saying so; the service settles it by itself")
    func owedRescoreSettled() async throws {
        let now = TestClock.environment()
        try await ServerTests.withServer(environment: now) { server, tokens, db in
            let url = TestDatabase.url(for: db.settings)
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: now).status == 0)
            // Runs are refused while the change commits: its rescore fails after the commit, as
            // when the process or the database dies between the two.
            try await db.client.query("CREATE FUNCTION refuse_runs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'cut short'; END $$", logger: db.logger)
            try await db.client.query("CREATE TRIGGER refuse_runs BEFORE INSERT ON score_runs FOR EACH ROW EXECUTE FUNCTION refuse_runs()", logger: db.logger)
            let latest = try #require(try await ScoreRuns(db).latestRunID())
            let add = try await Fixtures.sleeper(
                [
                    "evidence", "add", "--subject", "model:code-review-ft", "--control", "SLP-BACKDOOR-SCAN",
                    "--result", "fail", "--database-url", url,
                ], environment: now)
            #expect(add.status == 0, "\(add.stderr)")
            #expect(try await db.count("SELECT count(*) FROM rescores_owed WHERE settled_at IS NULL") == 1, "the change is owed its rescore")
            // While runs still fail, a command that reads scores says how far behind they are.
            let behind = try await Fixtures.sleeper(["exposure", "--top", "3", "--database-url", url], environment: now)
            #expect(behind.stderr.contains("the scores are behind: 1 committed change(s)"), "\(behind.stderr)")
            #expect(behind.stderr.contains("evidence #"), "\(behind.stderr)")

            try await db.client.query("DROP TRIGGER refuse_runs ON score_runs", logger: db.logger)
            // The service, with nobody asking, settles it within seconds.
            let deadline = ContinuousClock.now + .seconds(60)
            while try await db.count("SELECT count(*) FROM rescores_owed WHERE settled_at IS NULL") > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await db.count("SELECT count(*) FROM rescores_owed WHERE settled_at IS NULL") == 0, "\(server.log.suffix(1500))")
            #expect(try #require(try await ScoreRuns(db).latestRunID()) > latest)
            try await TrustworthyStateTests.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "after the service settled what was owed")
            _ = tokens
        }
    }

    @Test("a command that reads scores settles what is owed before it answers, and says so")
    func commandSettlesFirst() async throws {
        let now = TestClock.environment()
        try await ExportStoreTests.withEstate { db, url in
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: now).status == 0)
            try await db.client.query("CREATE FUNCTION refuse_runs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'cut short'; END $$", logger: db.logger)
            try await db.client.query("CREATE TRIGGER refuse_runs BEFORE INSERT ON score_runs FOR EACH ROW EXECUTE FUNCTION refuse_runs()", logger: db.logger)
            let change = try ExportStoreTests.scratch().appending(path: "tier.json")
            try Data(#"{"resources": [{"key": "ticketing", "name": "Support ticketing", "owner": "support-ops", "tier": 0}]}"#.utf8).write(to: change)
            #expect(try await Fixtures.sleeper(["import", change.path, "--database-url", url], environment: now).status == 0)
            try await db.client.query("DROP TRIGGER refuse_runs ON score_runs", logger: db.logger)
            // Importing the same file again changes nothing, and still the scores come out current.
            let again = try await Fixtures.sleeper(["import", change.path, "--database-url", url], environment: now)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.contains("1 committed change(s) were owed a rescore (import "), "\(again.stderr)")
            #expect(try await db.count("SELECT count(*) FROM rescores_owed WHERE settled_at IS NULL") == 0)
            try await TrustworthyStateTests.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "after the owed import was settled")
        }
    }

    @Test("an Idempotency-Key left in progress by an outage is settled with its write's real outcome: committed, the retry is told so and nothing is applied twice; not committed, the retry runs it")
    func idempotencyKeysSettled() async throws {
        try await ServerTests.withServer(extra: ["--idempotency-pending-seconds", "30"]) { server, tokens, db in
            let body = Data(#"{"subject": "model:code-review-ft", "control": "SLP-BACKDOOR-SCAN", "result": "fail"}"#.utf8)
            let first = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: body, headers: ["Idempotency-Key": "k-committed"])
            #expect(first.status == 201, "\(first.body)")
            // The write's own transaction marked its key.
            #expect(try await db.count("SELECT count(*) FROM idempotency_keys WHERE key = 'sha256:' || encode(sha256('k-committed'), 'hex') AND committed_xid IS NOT NULL") == 1)
            let records = try await db.count("SELECT count(*) FROM evidence")

            // As an outage leaves a key: claimed, its answer never stored, long ago.
            try await db.client.query(
                "UPDATE idempotency_keys SET status = NULL, response = NULL, created_at = now() - interval '1 hour' WHERE key = 'sha256:' || encode(sha256('k-committed'), 'hex')", logger: db.logger)
            let settled = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: body, headers: ["Idempotency-Key": "k-committed"])
            #expect(settled.status == 200 && settled.body.contains("\"outcome\": \"committed\""), "\(settled.status) \(settled.body)")
            #expect(settled.headers["idempotent-replayed"] == "true")
            let again = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: body, headers: ["Idempotency-Key": "k-committed"])
            #expect(again.body == settled.body, "the retry gets the same answer")
            #expect(try await db.count("SELECT count(*) FROM evidence") == records, "nothing applied twice")

            // A key whose write never committed: the retry runs it, once.
            try await db.client.query(
                """
                INSERT INTO idempotency_keys (actor, key, request_sha256, created_at)
                SELECT actor, 'sha256:' || encode(sha256('k-lost'), 'hex'), request_sha256, now() - interval '1 hour' FROM idempotency_keys WHERE key = 'sha256:' || encode(sha256('k-committed'), 'hex')
                """, logger: db.logger)
            let rerun = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: body, headers: ["Idempotency-Key": "k-lost"])
            #expect(rerun.status == 201, "\(rerun.body)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == records + 1)
            // One still within its time is in progress: 409, saying when it is settled.
            try await db.client.query(
                """
                INSERT INTO idempotency_keys (actor, key, request_sha256)
                SELECT actor, 'sha256:' || encode(sha256('k-running'), 'hex'), request_sha256 FROM idempotency_keys WHERE key = 'sha256:' || encode(sha256('k-committed'), 'hex')
                """, logger: db.logger)
            let running = try await server.call("POST", "/v1/evidence", token: tokens.editor, body: body, headers: ["Idempotency-Key": "k-running"])
            #expect(running.status == 409 && running.body.contains("after 30 s it is settled"), "\(running.body)")
        }
    }

    @Test("SIGTERM during a CPU-bound request: the service ends within --drain-seconds and 3 s more, the response not delivered")
    func hardStopAfterDrain() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let body = try await Data(contentsOf: try RuntimeObservationTests.traces(dir, "big.jsonl", ["--spans", "400000", "--per-line", "1000"]))
            let editor = try await TokenStore(db).create(name: "pipeline", role: .editor, by: "test")
            let server = try await ServerProcess(databaseURL: url, extra: ["--drain-seconds", "1", "--max-body-mb", "512"], asProcess: true)
            let answered = ManagedFlag()
            let request = Task {
                _ = try? await server.call("POST", "/v1/traces", token: editor, body: body, seconds: 170)
                answered.set()
            }
            defer { request.cancel() }
            try await Task.sleep(for: .seconds(2))
            try #require(!answered.isSet, "the request ended before the signal: the test needs a larger body")
            server.process.signal(SIGTERM)
            let signalled = ContinuousClock.now
            let status = await server.waitForExit(seconds: 60)
            let took = ContinuousClock.now - signalled
            // Ended by the cancellation of its handler, or by the hard stop 3 s past the drain (exit 1).
            #expect(status == 0 || status == 1, "\(String(describing: status)): \(server.log.suffix(800))")
            // 1 s to drain and 3 s more: bounded generously for a busy machine (16 s at load 20), and printed.
            #expect(took < .seconds(30), "alive \(took) after SIGTERM with --drain-seconds 1")
            #expect(!answered.isSet || status != nil)
            print("SIGTERM during a CPU-bound POST /v1/traces (--drain-seconds 1): the service ended \(took) after the signal, answered before: \(answered.isSet)")
        }
    }
}

/// A flag set by one task and read by another.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
