import Foundation
import PostgresNIO
import SleeperCore

/// Which credentials no model can reach, and why: the first break in the chain model → agent →
/// credential → resource. Their backdoor score is 0 for that reason, which every answer that
/// shows scores says (an estate imported from sources alone has no grants and few holders).
public struct CredentialReach: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// How many credentials each reason holds for (the first that does), with the first few keys.
    public func unreached() async throws -> [UnreachedReason: (count: Int, first: [String])] {
        var out: [UnreachedReason: (count: Int, first: [String])] = [:]
        // Agents a model's output reaches: those that use one, and those they delegate to. Each
        // break is a set joined once: the recursive set probed inside a per-credential NOT EXISTS
        // was scanned again for every credential (47 s at 100k credentials).
        for try await (reason, count, first) in try await db.client.query("""
            WITH RECURSIVE reached(agent_id) AS (
                SELECT agent_id FROM uses_model
                UNION SELECT d.delegate_id FROM delegates_to d JOIN reached r ON r.agent_id = d.agent_id),
            reachable AS MATERIALIZED (SELECT DISTINCT h.credential_id FROM holds h JOIN reached r ON r.agent_id = h.agent_id),
            held AS MATERIALIZED (SELECT DISTINCT credential_id FROM holds),
            granted AS MATERIALIZED (SELECT DISTINCT credential_id FROM grants),
            why AS (
                SELECT c.key, CASE
                    WHEN c.state <> 'active' THEN 'not live'
                    WHEN hd.credential_id IS NULL THEN 'no holder'
                    WHEN gr.credential_id IS NULL THEN 'no grant'
                    WHEN rc.credential_id IS NULL THEN 'no model on any holder'
                END AS reason
                FROM credentials c
                LEFT JOIN held hd ON hd.credential_id = c.id
                LEFT JOIN granted gr ON gr.credential_id = c.id
                LEFT JOIN reachable rc ON rc.credential_id = c.id)
            SELECT reason, count(*)::int, (array_agg(key ORDER BY key))[1:5] FROM why WHERE reason IS NOT NULL GROUP BY reason
            """, logger: db.logger).decode((String, Int, [String]).self) {
            if let r = UnreachedReason(rawValue: reason) { out[r] = (count, first) }
        }
        return out
    }
}
