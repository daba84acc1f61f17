import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Lists keep their shape, CSV cells never run as formulas, and a date alone means its whole day.
@Suite("Export shapes and dates", .timeLimit(.minutes(8)))
struct ExportShapeTests {
    @Test("JSON keeps framework items whole (GOVERN 3.2), CSV joins every list with ';', change and path have one shape")
    func listShapes() async throws {
        try await ExportStoreTests.withEstate { _, url in
            let json = try await Fixtures.sleeper(["export", "json", "--database-url", url])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let controls = try #require(object["controls"] as? [[String: Any]])
            let items = controls.flatMap { $0["framework_items"] as? [String] ?? [] }
            #expect(items.contains { $0.hasPrefix("nist-ai-rmf:") && $0.contains(" ") }, "NIST ids keep their space")
            #expect(!items.contains("3.2") && !items.contains { !$0.contains(":") })
            let csv = try await Fixtures.sleeper(["export", "csv", "--database-url", url])
            let row = try #require(csv.stdout.split(separator: "\r\n").first { $0.contains("nist-ai-rmf:") })
            #expect(row.contains(";nist-ai-rmf:") || row.contains("nist-ai-rmf:GOVERN"), "\(row)")
            #expect(!row.contains(" atlas:"), "lists are joined with ';', not spaces")
            let gaps = try await Fixtures.sleeper(["gaps", "--list", "--format", "csv", "--database-url", url])
            #expect(gaps.stdout.contains(";"))
            let exposure = try await Fixtures.sleeper(["exposure", "--top", "1", "--format", "json", "--database-url", url])
            let first = try #require((try JSONSerialization.jsonObject(with: Data(exposure.stdout.utf8)) as? [[String: Any]])?.first)
            #expect((first["path"] as? [String])?.count ?? 0 >= 3, "path is an array in JSON, as in the export")
        }
    }

    @Test("text a spreadsheet would run as a formula is neutralised in every CSV")
    func formulaInjection() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let dir = try ExportStoreTests.scratch()
            let file = dir.appending(path: "evil.yaml")
            try Data(
                """
                resources: [{key: evil-res, name: "=SUM(A1:A9)", tier: 3, owner: "@ops"}]
                credentials: [{key: evil-cred, kind: api_key, owner: "+team", grants: [{resource: evil-res, action: read}]}]
                """.utf8
            ).write(to: file)
            #expect(try await Fixtures.sleeper(["import", file.path, "--database-url", url]).status == 0)
            let resources = try await Fixtures.sleeper(["inventory", "resources", "--format", "csv", "--database-url", url])
            #expect(resources.stdout.contains("evil-res,'=SUM(A1:A9),3,'@ops"), "\(resources.stdout)")
            let export = try await Fixtures.sleeper(["export", "csv", "--database-url", url])
            #expect(export.stdout.contains("credential,evil-cred,'+team,"), "\(export.stdout.prefix(300))")
            #expect(!export.stdout.contains(",+team,") && !resources.stdout.contains(",=SUM"))
        }
    }

    @Test("--as-of with a date alone means the end of that day: evidence recorded today counts as of today")
    func dateMeansWholeDay() async throws {
        try await ExportStoreTests.withEstate { _, url in
            let today = Timestamps.formatDay(Date())
            let add = try await Fixtures.sleeper([
                "evidence", "add", "--subject", "agent:code-reviewer", "--control", "SLP-HITL", "--result", "pass",
                "--database-url", url,
            ])
            #expect(add.status == 0, "\(add.stderr)")
            let gaps = try await Fixtures.sleeper(["gaps", "--subject", "agent:code-reviewer", "--as-of", today, "--format", "csv", "--database-url", url])
            #expect(gaps.status == 0, "\(gaps.stderr)")
            #expect(!gaps.stdout.contains("SLP-HITL"), "recorded today, in force as of today: \(gaps.stdout)")
            #expect(Timestamps.moment("2026-09-30") == Timestamps.parse("2026-09-30T23:59:59Z"))
            #expect(Timestamps.moment("2026-09-30T12:00:00Z") == Timestamps.parse("2026-09-30T12:00:00Z"))
        }
    }
}

@Suite("Point in time by recorded or effective time", .timeLimit(.minutes(8)))
struct EvidenceBasisTests {
    @Test("evidence backfilled with a past effective date counts for that past only on the effective basis; the import is audited as a backfill")
    func basis() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let effective = TestClock.daysFromToday(-200)
            let add = try await Fixtures.sleeper([
                "evidence", "add", "--subject", "agent:code-reviewer", "--control", "SLP-HITL", "--result", "pass",
                "--effective", effective, "--database-url", url,
            ])
            #expect(add.status == 0, "\(add.stderr)")
            let then = TestClock.daysFromToday(-100)
            func gaps(_ basis: String) async throws -> String {
                let run = try await Fixtures.sleeper(["gaps", "--subject", "agent:code-reviewer", "--as-of", then, "--basis", basis, "--format", "csv", "--database-url", url])
                #expect(run.status == 0, "\(run.stderr)")
                return run.stdout
            }
            await #expect(try gaps("recorded").contains("SLP-HITL"), "recorded today: not known 100 days ago")
            await #expect(!(try gaps("effective")).contains("SLP-HITL"), "effective 200 days ago: in force 100 days ago, as known now")
            let coverage = try await Fixtures.sleeper(["coverage", "--framework", "owasp-agentic", "--as-of", then, "--basis", "effective", "--database-url", url])
            #expect(coverage.status == 0)
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'evidence.record' AND detail ->> 'backfilled' = '1'") == 1)
            // Exports and the report take the same basis, and say which.
            let json = try await Fixtures.sleeper(["export", "json", "--as-of", then, "--basis", "effective", "--database-url", url])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["evidence_basis"] as? String == "effective")
            let row = (object["controls"] as? [[String: Any]])?.first { $0["subject_key"] as? String == "code-reviewer" && $0["control"] as? String == "SLP-HITL" }
            #expect(row?["status"] as? String == "valid", "\(String(describing: row))")
            let recorded = try await Fixtures.sleeper(["export", "json", "--as-of", then, "--database-url", url])
            #expect(recorded.stdout.contains("\"evidence_basis\": \"recorded\""))
            let report = try await Fixtures.sleeper(["report", "--what-if", "0", "--as-of", then, "--basis", "effective", "--database-url", url])
            #expect(report.stdout.contains("(effective basis)"), "\(report.stdout.prefix(300))")
        }
    }
}
