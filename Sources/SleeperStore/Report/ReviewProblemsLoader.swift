import Foundation
import PostgresNIO
import SleeperCore

/// What is wrong besides failed checks, for the review: open runtime findings with the riskiest
/// credential and tier their agent reaches, exposed credentials with their score, and the
/// credentials no model reaches, by reason. Three set-based queries whatever the estate's size.
struct ReviewProblemsLoader: Sendable {
    let db: Database

    /// `run`: the run whose scores are cited (nil: none yet).
    func load(run: Int?) async throws -> ReviewProblems {
        var out = ReviewProblems()
        var rows = "(SELECT NULL::bigint AS credential_id, NULL::smallint AS score, NULL::text AS band, 0::float8 AS p WHERE false)"
        if let run { rows = try await ScoreRuns(db).rows(of: run) }
        out.findings = try await RuntimeStore(db).rankedFindings(status: .open, run: run)
        for try await (key, kind, owner, score, band) in try await db.client.query("""
            WITH s AS \(unescaped: rows)
            SELECT c.key, c.kind, c.owner, s.score::int, s.band FROM credentials c LEFT JOIN s ON s.credential_id = c.id AND s.p > 0
            WHERE c.exposed ORDER BY s.score DESC NULLS LAST, c.key LIMIT 1000
            """, logger: db.logger).decode((String, String, String?, Int?, String?).self) {
            out.exposed.append(.init(key: key, kind: kind, owner: owner, score: score, band: band))
        }
        out.unreached = try await CredentialReach(db).unreached()
        return out
    }
}
