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
        for try await (key, kind, owner, score, band) in try await db.client.query(
            """
            WITH s AS \(unescaped: rows)
            SELECT c.key, c.kind, c.owner, s.score::int, s.band FROM credentials c LEFT JOIN s ON s.credential_id = c.id AND s.p > 0
            WHERE c.exposed ORDER BY s.score DESC NULLS LAST, c.key LIMIT 1000
            """, logger: db.logger
        ).decode((String, CredentialKind, String?, Int?, Band?).self) {
            out.exposed.append(.init(key: key, kind: kind.rawValue, owner: owner, score: score, band: band))
        }
        out.unreached = try await CredentialReach(db).unreached()
        // What each model, agent and dataset reaches at worst, set-based (for the unowned list).
        for try await (subject, credential, score) in try await db.client.query(
            """
            WITH RECURSIVE s AS \(unescaped: rows),
            lineage(ancestor_id, model_id) AS (
                SELECT id, id FROM models
                UNION SELECT l.ancestor_id, d.model_id FROM lineage l JOIN derived_from d ON d.parent_id = l.model_id),
            held AS (SELECT h.agent_id, c.key AS credential, s.score::int AS score
                     FROM holds h JOIN credentials c ON c.id = h.credential_id JOIN s ON s.credential_id = c.id),
            per_agent AS (SELECT DISTINCT ON (agent_id) agent_id, credential, score FROM held ORDER BY agent_id, score DESC, credential),
            per_model AS (SELECT DISTINCT ON (l.ancestor_id) l.ancestor_id AS model_id, p.credential, p.score
                          FROM lineage l JOIN uses_model u ON u.model_id = l.model_id JOIN per_agent p ON p.agent_id = u.agent_id
                          ORDER BY l.ancestor_id, p.score DESC, p.credential),
            per_dataset AS (SELECT DISTINCT ON (t.dataset_id) t.dataset_id, p.credential, p.score
                            FROM trained_on t JOIN per_model p ON p.model_id = t.model_id ORDER BY t.dataset_id, p.score DESC, p.credential)
            SELECT 'agent:' || a.key, p.credential, p.score FROM per_agent p JOIN agents a ON a.id = p.agent_id
            UNION ALL SELECT 'model:' || m.key, p.credential, p.score FROM per_model p JOIN models m ON m.id = p.model_id
            UNION ALL SELECT 'dataset:' || d.key, p.credential, p.score FROM per_dataset p JOIN datasets d ON d.id = p.dataset_id
            """, logger: db.logger
        ).decode((String, String, Int).self) {
            out.reach[subject] = (credential, score)
        }
        return out
    }
}
