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
            _ = try Fixtures.sleeper(["score", "--database-url", url], environment: now)
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
            #expect(try await server.call("GET", "/v1/exposures?top=3", token: tokens.viewer, seconds: 10).status == 200)
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
                            let r = try await server.call("POST", "/v1/recalls", token: tokens.editor,
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
            #expect(try Fixtures.sleeper(["score", "--database-url", url], environment: now).status == 0)
            // Runs are refused while the change commits: its rescore fails after the commit, as
            // when the process or the database dies between the two.
            try await db.client.query("CREATE FUNCTION refuse_runs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'cut short'; END $$", logger: db.logger)
            try await db.client.query("CREATE TRIGGER refuse_runs BEFORE INSERT ON score_runs FOR EACH ROW EXECUTE FUNCTION refuse_runs()", logger: db.logger)
            let latest = try #require(try await ScoreRuns(db).latestRunID())
            let add = try Fixtures.sleeper(["evidence", "add", "--subject", "model:code-review-ft", "--control", "SLP-BACKDOOR-SCAN",
                                            "--result", "fail", "--database-url", url], environment: now)
            #expect(add.status == 0, "\(add.stderr)")
            #expect(try await db.count("SELECT count(*) FROM rescores_owed WHERE settled_at IS NULL") == 1, "the change is owed its rescore")
            // While runs still fail, a command that reads scores says how far behind they are.
            let behind = try Fixtures.sleeper(["exposure", "--top", "3", "--database-url", url], environment: now)
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
            #expect(try Fixtures.sleeper(["score", "--database-url", url], environment: now).status == 0)
            try await db.client.query("CREATE FUNCTION refuse_runs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'cut short'; END $$", logger: db.logger)
            try await db.client.query("CREATE TRIGGER refuse_runs BEFORE INSERT ON score_runs FOR EACH ROW EXECUTE FUNCTION refuse_runs()", logger: db.logger)
            let change = try ExportStoreTests.scratch().appending(path: "tier.json")
            try Data(#"{"resources": [{"key": "ticketing", "name": "Support ticketing", "owner": "support-ops", "tier": 0}]}"#.utf8).write(to: change)
            #expect(try Fixtures.sleeper(["import", change.path, "--database-url", url], environment: now).status == 0)
            try await db.client.query("DROP TRIGGER refuse_runs ON score_runs", logger: db.logger)
            // Importing the same file again changes nothing, and still the scores come out current.
            let again = try Fixtures.sleeper(["import", change.path, "--database-url", url], environment: now)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.contains("1 committed change(s) were owed a rescore (import "), "\(again.stderr)")
            #expect(try await db.count("SELECT count(*) FROM rescores_owed WHERE settled_at IS NULL") == 0)
            try await TrustworthyStateTests.expectCurrentEqualsFullRun(db, asOf: TestClock.now, "after the owed import was settled")
        }
    }
}
