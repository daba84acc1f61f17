import Foundation
import SleeperCore
import SleeperStore
import Testing

/// A pass proves only what it covered: a record keeps the files its report scanned, and a fail on
/// a file stands until a record covers that file.
@Suite("Evidence by file", .timeLimit(.minutes(8)))
struct CoveredFilesTests {
    /// The clean modelscan fixture, rewritten to have scanned only `files`, one minute after `ReportIngestTests.ranAt`.
    static func clean(of files: [String], scanned path: String, into dir: URL, name: String) throws -> URL {
        let url = try ReportIngestTests.modelscan("clean.json", scanned: path, into: dir)
        var text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let list = files.map { "\"\($0)\"" }.joined(separator: ", ")
        text = text.replacingOccurrences(of: #""total_scanned": 2, "scanned_files": \[[^\]]*\]"#, with: "\"total_scanned\": \(files.count), \"scanned_files\": [\(list)]", options: .regularExpression)
        let later = String(Timestamps.format(ReportIngestTests.ranAt.addingTimeInterval(60)).dropLast()) + ".000001"
        text = text.replacingOccurrences(of: #""timestamp": "[^"]+""#, with: "\"timestamp\": \"\(later)\"", options: .regularExpression)
        let out = dir.appending(path: name)
        try Data(text.utf8).write(to: out)
        return out
    }

    static func serializationStatus(_ url: String) async throws -> (status: String, evidence: Int?, files: [String]) {
        let gaps = try await Fixtures.sleeper(["gaps", "--subject", "model:scanned-model", "--format", "json", "--database-url", url], environment: TestClock.environment())
        let rows = (try JSONSerialization.jsonObject(with: Data(gaps.stdout.utf8)) as? [[String: Any]]) ?? []
        guard let row = rows.first(where: { $0["control"] as? String == "SLP-SERIALIZATION-SCAN" }) else { return ("valid", nil, []) }
        return (row["status"] as? String ?? "?", row["evidence"] as? Int, row["failed_files"] as? [String] ?? [])
    }

    @Test("a fail on pytorch_model.bin and model.keras stands through a clean scan of model.safetensors; a scan that covers both clears it; the files are in the record and its hash")
    func passCoversOnlyItsFiles() async throws {
        let env = TestClock.environment()
        try await TestDatabase.withCatalogs { db, url in
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: env) }
            let dir = try ExportStoreTests.scratch()
            let (model, _, inventory) = try ReportIngestTests.estate(dir)
            #expect(try await sleeper(["import", inventory.path]).status == 0)
            #expect(try await sleeper(["score"]).status == 0)

            let unsafe = try ReportIngestTests.modelscan("unsafe.json", scanned: model.path, into: dir)
            #expect(try await sleeper(["evidence", "ingest", "modelscan", unsafe.path, "--subject", "model:scanned-model"]).status == 3)
            let fail = try await db.count("SELECT max(id) FROM evidence")
            #expect(try await db.count("SELECT count(*) FROM evidence WHERE id = \(fail) AND covered_files = ARRAY['model.keras', 'pytorch_model.bin']") == 1)
            let failed = try await ReportIngestTests.score(url)

            let other = try Self.clean(of: ["model.safetensors"], scanned: model.path, into: dir, name: "other.json")
            let partial = try await sleeper(["evidence", "ingest", other.path, "--subject", "model:scanned-model"])
            #expect(partial.status == 0, "\(partial.stderr)")
            let (status, evidence, files) = try await Self.serializationStatus(url)
            #expect(status == "failed" && evidence == fail, "the fail on the files the pass did not cover stands: \(status) \(String(describing: evidence))")
            #expect(files == ["model.keras", "pytorch_model.bin"], "gaps names the files still failed: \(files)")
            #expect(try await ReportIngestTests.score(url) == failed, "a pass of other files changes nothing")
            let steps = await (try ReportIngestTests.explain("model:scanned-model", url)["steps"] as? [String]) ?? []
            #expect(steps.contains("L0 → L: failed serialization scan (evidence #\(fail) on model.keras, pytorch_model.bin) holds L at 0.9 or more"), "\(steps)")

            let both = try Self.clean(of: ["pytorch_model.bin:archive/data.pkl", "model.keras"], scanned: model.path, into: dir, name: "both.json")
            #expect(try await sleeper(["evidence", "ingest", both.path, "--subject", "model:scanned-model"]).status == 0)
            #expect(try await Self.serializationStatus(url).status == "valid")
            #expect(try await ReportIngestTests.score(url) < failed, "a pass that covers the failed files lowers the score")

            // The files are part of what the hash covers: editing them breaks the chain.
            #expect(try await sleeper(["verify"]).status == 0)
            try await db.client.query("ALTER TABLE evidence DISABLE TRIGGER evidence_append_only", logger: db.logger)
            try await db.client.query("UPDATE evidence SET covered_files = ARRAY['model.safetensors'] WHERE id = \(fail)", logger: db.logger)
            let verify = try await sleeper(["verify"])
            let said = verify.stdout + verify.stderr
            #expect(verify.status != 0 && said.contains("evidence record \(fail): its content does not match its hash"), "\(said)")
        }
    }
}
