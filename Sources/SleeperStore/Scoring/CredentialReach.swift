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
        // Agents a model's output reaches: those that use one, and those they delegate to.
        for try await (reason, count, first) in try await db.client.query("""
            WITH RECURSIVE reached(agent_id) AS (
                SELECT agent_id FROM uses_model
                UNION SELECT d.delegate_id FROM delegates_to d JOIN reached r ON r.agent_id = d.agent_id),
            why AS (
                SELECT c.key, CASE
                    WHEN c.state <> 'active' THEN 'not live'
                    WHEN NOT EXISTS (SELECT 1 FROM holds h WHERE h.credential_id = c.id) THEN 'no holder'
                    WHEN NOT EXISTS (SELECT 1 FROM grants g WHERE g.credential_id = c.id) THEN 'no grant'
                    WHEN NOT EXISTS (SELECT 1 FROM holds h JOIN reached r ON r.agent_id = h.agent_id WHERE h.credential_id = c.id) THEN 'no model on any holder'
                END AS reason
                FROM credentials c)
            SELECT reason, count(*)::int, (array_agg(key ORDER BY key))[1:5] FROM why WHERE reason IS NOT NULL GROUP BY reason
            """, logger: db.logger).decode((String, Int, [String]).self) {
            if let r = UnreachedReason(rawValue: reason) { out[r] = (count, first) }
        }
        return out
    }
}
