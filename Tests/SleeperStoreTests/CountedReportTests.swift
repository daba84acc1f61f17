import Foundation
import SleeperCore
import SleeperStore
import Testing

/// The review report counts the subjects nothing is recorded of instead of listing their
/// statuses; it must say exactly what the report made from every status says.
@Suite("Review report from counts", .timeLimit(.minutes(8)))
struct CountedReportTests {
    @Test("with passes, failures, lapsed evidence, an accepted gap and subjects without an owner: the same Markdown and HTML as from every status, at two dates")
    func sameReport() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let env = TestClock.environment()
            #expect(
                try await Fixtures.sleeper(
                    [
                        "accept", "credential:crm-oauth", "--control", "SLP-ROTATION", "--until", Timestamps.formatDay(TestClock.now.addingTimeInterval(10 * 86400)),
                        "--by", "iam", "--reason", "vendor rotates in December", "--database-url", url,
                    ], environment: env
                ).status == 0)
            // More subjects than the five of each kind a counted snapshot lists, most without an owner.
            let more = try ExportStoreTests.scratch().appending(path: "more.yaml")
            let credentials = (0..<30).map { "  - {key: extra-\($0), kind: api_key\($0 % 3 == 0 ? ", owner: team-x" : "")}" }
            try Data((["credentials:"] + credentials).joined(separator: "\n").utf8).write(to: more)
            #expect(try await Fixtures.sleeper(["import", more.path, "--database-url", url], environment: env).status == 0)
            #expect(try await Fixtures.sleeper(["score", "--database-url", url], environment: env).status == 0)
            let loader = ReviewReportLoader(db)
            for asOf in [TestClock.now, TestClock.now.addingTimeInterval(400 * 86400)] {
                let full = try await loader.load(asOf: asOf, since: nil, countingUnrecorded: false)
                let counted = try await loader.load(asOf: asOf, since: nil, countingUnrecorded: true)
                #expect(counted.snapshot.statuses.count < full.snapshot.statuses.count, "the counted snapshot lists fewer statuses")
                #expect(counted.snapshot.unlisted.values.reduce(0, +) > 0)
                #expect(ReportMarkdown.render(counted) == ReportMarkdown.render(full))
                #expect(ReportHTML.render(counted) == ReportHTML.render(full))
                #expect(counted.unownedCount == full.unowned().count && counted.unownedCount > 20)
                // The CSV lists the counted subjects' rows as it goes: the same bytes, by framework too.
                let loader = ComplianceSnapshotLoader(db)
                let every = try await loader.load(asOf: asOf)
                let keyed = try await loader.load(asOf: asOf, countingUnrecorded: true, keepingUnrecordedKeys: true)
                #expect(keyed.unlistedSubjects.values.map(\.keys.count).reduce(0, +) == keyed.unlisted.values.reduce(0, +))
                #expect(keyed.statuses.count < every.statuses.count)
                for framework in [nil, "owasp-nhi"] as [String?] {
                    let a = ComplianceTable.csv(every, framework: framework), b = ComplianceTable.csv(keyed, framework: framework)
                    #expect(a == b, "CSV \(framework ?? "all"): \(a.count) vs \(b.count) characters")
                }
                // The assessment results are made from counts too: the same document but for its
                // UUIDs, which follow the digest of what the snapshot holds.
                func withoutUUIDs(_ s: String) -> String {
                    s.replacingOccurrences(of: #"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#, with: "UUID", options: .regularExpression)
                }
                let arFull = AssessmentResultsExport.render(full.snapshot, framework: nil)
                let arCounted = AssessmentResultsExport.render(counted.snapshot, framework: nil)
                #expect(withoutUUIDs(arFull) == withoutUUIDs(arCounted))
                #expect(arFull.count > 10_000 && arFull != arCounted)
                for framework in full.snapshot.catalog.frameworks {
                    let a = full.snapshot.assessments(framework: framework), b = counted.snapshot.assessments(framework: framework)
                    #expect(a.map(\.applicable) == b.map(\.applicable) && a.map(\.covered) == b.map(\.covered))
                    #expect(a.map { $0.openGapCounts.map(\.count) } == b.map { $0.openGapCounts.map(\.count) })
                    #expect(a.map { $0.openGapSamples.map(\.subject) } == b.map { $0.openGapSamples.map(\.subject) }, "the same first examples")
                }
            }
        }
    }
}
