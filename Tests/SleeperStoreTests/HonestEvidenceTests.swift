import Foundation
import SleeperCore
import SleeperStore
import Testing

/// Implausible evidence is visible: a record that had lapsed before it was recorded is said to
/// count for nothing, and a validity far beyond the control's is refused unless it is meant.
@Suite("Implausible evidence", .timeLimit(.minutes(8)))
struct HonestEvidenceTests {
    @Test("a ten-year backdoor-scan pass is refused without --allow-long-validity, recorded and audited with it; a lapsed record is flagged at once")
    func longAndLapsed() async throws {
        try await ExportStoreTests.withEstate { db, url in
            let env = TestClock.environment()
            func sleeper(_ args: [String]) async throws -> Fixtures.Run { try await Fixtures.sleeper(args + ["--database-url", url], environment: env) }
            let today = Timestamps.formatDay(TestClock.now.addingTimeInterval(-3 * TestClock.day))
            let decade = Timestamps.formatDay(TestClock.now.addingTimeInterval(3650 * TestClock.day))
            let args = ["evidence", "add", "--subject", "model:acme-support-ft", "--control", "SLP-BACKDOOR-SCAN", "--result", "pass", "--effective", today, "--expires", decade]
            let before = try await db.count("SELECT count(*) FROM evidence")
            let refused = try await sleeper(args)
            #expect(refused.status == 1 && refused.stderr.contains("more than twice SLP-BACKDOOR-SCAN's validity") && refused.stderr.contains("--allow-long-validity"), "\(refused.stderr)")
            #expect(try await db.count("SELECT count(*) FROM evidence") == before)
            let allowed = try await sleeper(args + ["--allow-long-validity"])
            #expect(allowed.status == 0, "\(allowed.stderr) \(allowed.stdout)")
            let id = try await db.count("SELECT max(id) FROM evidence")
            #expect(try await db.count("SELECT count(*) FROM audit_log WHERE action = 'evidence.record' AND detail ->> 'long_validity' = '#\(id)'") == 1)

            let lapsed = try await sleeper([
                "evidence", "add", "--subject", "model:acme-support-ft", "--control", "SLP-BACKDOOR-SCAN", "--result", "pass",
                "--effective", Timestamps.formatDay(TestClock.now.addingTimeInterval(-200 * TestClock.day)),
                "--expires", Timestamps.formatDay(TestClock.now.addingTimeInterval(-100 * TestClock.day)),
            ])
            #expect(lapsed.status == 0, "\(lapsed.stderr)")
            #expect(lapsed.stdout.contains("warning: record \(id + 1) had already expired"), "\(lapsed.stdout)")
        }
    }
}
