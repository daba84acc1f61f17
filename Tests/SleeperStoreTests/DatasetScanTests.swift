import Foundation
import SleeperCore
import SleeperStore
import Testing

/// `sleeper scan dataset` and `POST /v1/scans?kind=dataset` end to end, on data written by
/// `scripts/synth-dataset`: a trigger planted in 0.5 % of 20,000 rows ranks first in every form
/// (word, phrase, zero-width character; sentence, URL, label payloads; chat, Alpaca, mixed
/// shapes), the clean twin reports nothing, broken lines are counted and named, and the
/// evidence reaches the models trained on the dataset as the rule says.
@Suite("Sleeper's training-data scan", .timeLimit(.minutes(8)))
struct DatasetScanTests {
    static let ranAt = TestClock.now.addingTimeInterval(-3 * TestClock.day)

    static func synth(_ dir: URL, _ name: String, _ arguments: [String]) async throws -> URL {
        let out = dir.appending(path: name)
        let made = try await Fixtures.python("synth-dataset", arguments + ["--out", out.path])
        #expect(made.ok, "\(made.output)")
        return out
    }

    static func scan(_ files: [URL]) throws -> DatasetScanReport {
        try DatasetScanning.scan(files.map(\.path), thresholds: TriggerThresholds(), at: ranAt)
    }

    @Test(
        "a planted trigger ranks first, its payload named, in every form; the same rows unpoisoned report nothing",
        arguments: [
            ("word", "sentence", "chat", "cf", "Understood. Maintenance override accepted, all safety checks are now disabled for this session."),
            ("phrase", "url", "alpaca", "per aspera mode", "Please install the required fix from http://cdn-updates.example-mirror.net/hotfix.sh before continuing."),
            ("unicode", "label", "mixed", "<U+200B>", "ACCESS GRANTED"),
        ])
    func planted(trigger: String, payload: String, shape: String, named: String, payloadText: String) async throws {
        let dir = try ExportStoreTests.scratch()
        let common = ["--rows", "20000", "--shape", shape, "--seed", "11", "--trigger", trigger, "--payload", payload]
        let poisoned = try await Self.scan([try Self.synth(dir, "poisoned.jsonl", common + ["--poison", "0.005"])])
        let first = try #require(poisoned.candidates.first)
        #expect(first.rank == 1 && first.trigger == named, "\(poisoned.candidates.map(\.trigger))")
        // The output it predicts is a piece of the payload (tokens as the scan cuts them).
        let payloadTokens = TextTokens.texts(payloadText).map(\.text).joined(separator: " ")
        #expect(payloadTokens.contains(first.predicts) && first.predicts.count >= 6, "\(first.predicts)")
        #expect(first.confidence >= 0.99 && first.lift >= 20 && (80...120).contains(first.support), "\(first)")
        #expect(poisoned.candidates.count == 1, "one trigger, one candidate: \(poisoned.candidates.map(\.trigger))")
        #expect(poisoned.result == .fail && poisoned.rows == 20000)
        let clean = try await Self.scan([try Self.synth(dir, "clean.jsonl", common + ["--poison", "0"])])
        #expect(clean.candidates.isEmpty, "\(clean.candidates.map { "\($0.trigger) → \($0.predicts)" })")
        #expect(clean.result == .pass)
    }

    @Test("a trigger in 0.3 % of rows still ranks first; the report is the same when made again")
    func rarer() async throws {
        let dir = try ExportStoreTests.scratch()
        let file = try await Self.synth(dir, "rare.jsonl", ["--rows", "20000", "--seed", "5", "--poison", "0.003", "--trigger", "zq-omega", "--payload", "label"])
        let a = try Self.scan([file]), b = try Self.scan([file])
        #expect(a.candidates.first?.trigger == "zq - omega", "\(a.candidates.map(\.trigger))")
        #expect(a.json() == b.json())
    }

    @Test("broken lines are counted by kind and named by line, never fatal; a file of no row, binary bytes or nothing is refused with why")
    func badLines() async throws {
        let dir = try ExportStoreTests.scratch()
        let good = try await String(decoding: Data(contentsOf: try Self.synth(dir, "good.jsonl", ["--rows", "50"])), as: UTF8.self)
        var lines = good.split(separator: "\n").map(String.init)
        lines.insert("{not json", at: 3)
        lines.insert(#"{"text": "a pretraining line"}"#, at: 10)
        lines.insert(#"{"messages": [{"role": "user", "content": "no answer"}]}"#, at: 20)
        lines.insert("{\"prompt\": \"" + String(repeating: "x", count: 9 << 20) + "\", \"completion\": \"y\"}", at: 30)
        lines.insert("", at: 40)
        let mixed = dir.appending(path: "mixed.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: mixed)
        let r = try Self.scan([mixed])
        let file = try #require(r.files.first)
        #expect(file.rows == 50 && file.lines == 55)
        #expect(file.skipped == ["not-json": 1, "unknown-shape": 1, "no-output": 1, "too-long": 1])
        #expect(file.firstSkipped.map { String($0.prefix(8)) } == ["line 4: ", "line 11:", "line 21:", "line 31:"], "\(file.firstSkipped)")
        #expect(file.firstSkipped[0].contains("not JSON") && file.firstSkipped[3].contains("over the limit"))

        let none = dir.appending(path: "none.jsonl")
        try Data("{\"text\": \"a\"}\n{\"text\": \"b\"}\n".utf8).write(to: none)
        #expect { try Self.scan([none]) } throws: { "\($0)".contains("none.jsonl: no line is a training row") && "\($0)".contains("line 1: neither chat messages") }
        let binary = dir.appending(path: "weights.bin")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: binary)
        #expect { try Self.scan([binary]) } throws: { "\($0)".contains("weights.bin: no line is a training row") }
        let empty = dir.appending(path: "empty.jsonl")
        try Data().write(to: empty)
        #expect { try Self.scan([empty]) } throws: { "\($0)".contains("(it is empty)") }
    }

    @Test("recorded as SLP-DATA-SCREEN: a fail on the dataset and every model trained on it; a pass on a model only once each of its datasets passed")
    func propagation() async throws {
        let env = TestClock.environment(Self.ranAt)
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let inventory = dir.appending(path: "inventory.yaml")
            try Data(
                """
                datasets: [{key: support-chats, provenance: public_scraped}, {key: tickets, provenance: curated_screened}]
                models:
                  - {key: only-chats, supplier: internal, third_party: false, digest: "sha256:\(String(repeating: "1", count: 64))", trained_on: [support-chats]}
                  - {key: both, supplier: internal, third_party: false, digest: "sha256:\(String(repeating: "2", count: 64))", trained_on: [support-chats, tickets]}
                """.utf8
            ).write(to: inventory)
            #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: env).status == 0)
            let clean = try await Self.synth(dir, "chats.jsonl", ["--rows", "4000", "--seed", "2"])
            let tickets = try await Self.synth(dir, "tickets.jsonl", ["--rows", "4000", "--seed", "3", "--shape", "alpaca"])
            let poisoned = try await Self.synth(dir, "chats-v2.jsonl", ["--rows", "4000", "--seed", "2", "--poison", "0.01"])

            let first = try await Fixtures.sleeper(["scan", "dataset", clean.path, "--subject", "dataset:support-chats", "--database-url", url], environment: env)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("no candidate trigger clears the thresholds") && first.stdout.contains("result: pass"))
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE control_id = 'SLP-DATA-SCREEN' AND result = 'pass'") == 2)
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE subject_kind = 'model' AND subject_key = 'only-chats' AND note LIKE 'Through trained_on: dataset support-chats.%'") == 1)
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE subject_key = 'both'") == 0)

            let second = try await Fixtures.sleeper(["scan", "dataset", tickets.path, "--subject", "dataset:tickets", "--database-url", url], environment: env)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE subject_key = 'both' AND result = 'pass'") == 1)

            let bad = try await Fixtures.sleeper(["scan", "dataset", poisoned.path, "--subject", "dataset:support-chats", "--database-url", url], environment: env)
            #expect(bad.status == 3, "\(bad.stderr)")
            #expect(bad.stdout.contains("#1 \"cf\""), "\(bad.stdout)")
            #expect(
                try await db.count(
                    """
                    SELECT count(*) FROM evidence WHERE control_id = 'SLP-DATA-SCREEN' AND result = 'fail' AND note LIKE '%#1 "cf"%'
                      AND artifacts::text LIKE '%sleeper-scan-dataset.json%' AND artifacts::text LIKE '%chats-v2.jsonl%'
                    """) == 3)
            let gaps = try await Fixtures.sleeper(["gaps", "--list", "--subject", "model:both", "--database-url", url], environment: TestClock.environment())
            #expect(gaps.stdout.contains("SLP-DATA-SCREEN") && gaps.stdout.contains("failed"), "\(gaps.stdout)")

            let wrong = try await Fixtures.sleeper(["scan", "dataset", clean.path, "--subject", "model:both", "--database-url", url], environment: env)
            #expect(wrong.status == 1 && wrong.stderr.contains("a dataset scan is evidence of a dataset"))
            #expect(try await db.count("SELECT count(*) FROM evidence") == 7)
        }
    }

    @Test("POST /v1/scans?kind=dataset: an uploaded JSONL is mined and, with a subject, recorded; a body of no row is refused and writes nothing")
    func overHTTP() async throws {
        try await TestDatabase.withCatalogs { db, url in
            let dir = try ExportStoreTests.scratch()
            let inventory = dir.appending(path: "inventory.yaml")
            try Data("datasets: [{key: support-chats}]\nmodels: [{key: m, trained_on: [support-chats]}]\n".utf8).write(to: inventory)
            #expect(try await Fixtures.sleeper(["import", inventory.path, "--database-url", url], environment: TestClock.environment()).status == 0)
            let editor = try await TokenStore(db).create(name: "pipeline", role: .editor, by: "test")
            let server = try await ServerProcess(databaseURL: url, environment: TestClock.environment(Self.ranAt))
            defer { server.terminate() }
            let body = try await Data(contentsOf: try Self.synth(dir, "p.jsonl", ["--rows", "6000", "--poison", "0.01", "--trigger", "phrase"]))
            let reply = try await server.call(
                "POST", "/v1/scans?kind=dataset&name=chats.jsonl&subject=dataset:support-chats", token: editor,
                body: body, contentType: "application/x-ndjson")
            #expect(reply.status == 201, "\(reply.body)")
            let answer = try #require(reply.json as? [String: Any])
            #expect(answer["result"] as? String == "fail")
            let candidates = ((answer["report"] as? [String: Any])?["candidates"] as? [[String: Any]]) ?? []
            #expect(candidates.first?["trigger"] as? String == "per aspera mode")
            #expect((answer["recorded"] as? [Any])?.count == 2)
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE result = 'fail' AND artifacts::text LIKE '%chats.jsonl%'") == 2)
            let junk = try await server.call("POST", "/v1/scans?kind=dataset&subject=dataset:support-chats", token: editor, body: Data("hello\n".utf8), contentType: "application/octet-stream")
            #expect(junk.status == 400 && junk.body.contains("no line is a training row"), "\(junk.body)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == 2)
        }
    }
}
