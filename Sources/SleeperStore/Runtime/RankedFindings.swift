import Foundation
import PostgresNIO
import SleeperCore

extension RuntimeStore {
    /// Findings ranked by risk, as the review and `sleeper findings` show them: each with the
    /// riskiest credential its agent holds (by `run`'s scores; the latest current run when nil)
    /// and the most sensitive tier those credentials reach, then in `ReviewProblems`' order.
    public func rankedFindings(agent: String? = nil, status: FindingStatus? = nil, run: Int? = nil) async throws -> [ReviewProblems.Finding] {
        if let agent { try await ReferenceLookup(db).requireAgent(agent) }
        let found = try await findings(agent: agent, status: status)
        guard !found.isEmpty else { return [] }
        let cited: Int?
        if let run { cited = run } else { cited = try await ScoreRuns(db).runID(atOrBefore: SleeperClock.now()) }
        var rows = "(SELECT NULL::bigint AS credential_id, NULL::smallint AS score WHERE false)"
        if let cited { rows = try await ScoreRuns(db).rows(of: cited) }
        var reach: [String: (credential: String?, score: Int?, tier: Int?)] = [:]
        let agents = Array(Set(found.map(\.agent)))
        for try await (agent, credential, score, tier) in try await db.client.query(
            """
            WITH s AS \(unescaped: rows),
            held AS (
                SELECT a.key AS agent, c.key AS credential, s.score::int AS score,
                       (SELECT min(r.tier) FROM grants g JOIN resources r ON r.id = g.resource_id WHERE g.credential_id = c.id)::int AS tier
                FROM agents a JOIN holds h ON h.agent_id = a.id JOIN credentials c ON c.id = h.credential_id
                LEFT JOIN s ON s.credential_id = c.id
                WHERE a.key = ANY(\(agents)))
            SELECT DISTINCT ON (agent) agent, credential, score, (SELECT min(h2.tier) FROM held h2 WHERE h2.agent = held.agent)
            FROM held ORDER BY agent, score DESC NULLS LAST, credential
            """, logger: db.logger
        ).decode((String, String?, Int?, Int?).self) {
            reach[agent] = (credential, score, tier)
        }
        var problems = ReviewProblems()
        problems.findings = found.map { f in
            ReviewProblems.Finding(finding: f, worstCredential: reach[f.agent]?.credential, worstScore: reach[f.agent]?.score, bestTier: reach[f.agent]?.tier)
        }
        return problems.rankedFindings
    }
}
