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
        let open = try await RuntimeStore(db).findings(status: .open)
        if !open.isEmpty {
            var reach: [String: (credential: String?, score: Int?, tier: Int?)] = [:]
            let agents = Array(Set(open.map(\.agent)))
            for try await (agent, credential, score, tier) in try await db.client.query("""
                WITH s AS \(unescaped: rows),
                held AS (
                    SELECT a.key AS agent, c.key AS credential, s.score::int AS score,
                           (SELECT min(r.tier) FROM grants g JOIN resources r ON r.id = g.resource_id WHERE g.credential_id = c.id)::int AS tier
                    FROM agents a JOIN holds h ON h.agent_id = a.id JOIN credentials c ON c.id = h.credential_id
                    LEFT JOIN s ON s.credential_id = c.id
                    WHERE a.key = ANY(\(agents)))
                SELECT DISTINCT ON (agent) agent, credential, score, (SELECT min(h2.tier) FROM held h2 WHERE h2.agent = held.agent)
                FROM held ORDER BY agent, score DESC NULLS LAST, credential
                """, logger: db.logger).decode((String, String?, Int?, Int?).self) {
                reach[agent] = (credential, score, tier)
            }
            out.findings = open.map { f in
                ReviewProblems.Finding(finding: f, worstCredential: reach[f.agent]?.credential, worstScore: reach[f.agent]?.score, bestTier: reach[f.agent]?.tier)
            }
        }
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
