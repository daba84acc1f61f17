import Foundation
import SleeperStore
import Testing

/// docs/scoring.md states the scoring model in words precise enough to implement it again:
/// `scripts/check-scoring` does, in Python, from those words and `Controls/scoring.yaml` alone, and
/// compares every credential of a synthetic estate with evidence (in force, in grace, lapsed,
/// failed) scored at a time that is not midnight.
@Suite("An independent implementation of the documented model", .timeLimit(.minutes(8)))
struct IndependentScoringTests {
    @Test("agrees with Sleeper on score, raw, P, impact and hygiene of every credential", arguments: [3, 11])
    func agrees(seed: Int) async throws {
        try await TestDatabase.withFresh { db in
            _ = try await CatalogStore(db).syncBundled()
            let url = TestDatabase.url(for: db.settings)
            let check = try await Fixtures.python(
                "check-scoring",
                [
                    "--sleeper", Fixtures.sleeperBinary.path, "--database-url", url,
                    "--credentials", "3000", "--seed", String(seed),
                ])
            #expect(check.ok, "\(check.output)")
            #expect(check.output.contains(": 0 of 3000 credentials differ"), "\(check.output)")
        }
    }
}
