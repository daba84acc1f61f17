import Foundation
import PostgresNIO
import SleeperCore

/// Which credentials no model can reach, and why: the first break in the chain model → agent →
/// credential → resource (or a credential that is not live). Their backdoor score is 0 for that
/// reason, which every answer that shows scores says (an estate imported from sources alone has
/// no grants and few holders).
public struct CredentialReach: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// How many credentials each reason holds for (the first that does), with the first few keys.
    public func unreached() async throws -> [UnreachedReason: (count: Int, first: [String])] {
        var out: [UnreachedReason: (count: Int, first: [String])] = [:]
        let sql = PostgresQuery(
            unsafeSQL: """
                SELECT reason, count(*)::int, (array_agg(key ORDER BY key))[1:5] FROM (\(Self.reasons(of: "true"))) why
                WHERE reason IS NOT NULL GROUP BY reason
                """)
        for try await (reason, count, first) in try await db.client.query(sql, logger: db.logger).decode((String, Int, [String]).self) {
            if let r = UnreachedReason(rawValue: reason) { out[r] = (count, first) }
        }
        return out
    }

    /// Why each of these credentials is unreached (those that are reached are left out).
    public func reasons(_ keys: [String]) async throws -> [String: UnreachedReason] {
        guard !keys.isEmpty else { return [:] }
        var binds = PostgresBindings()
        binds.append(keys)
        var out: [String: UnreachedReason] = [:]
        let sql = PostgresQuery(unsafeSQL: "SELECT key, reason FROM (\(Self.reasons(of: "c.key = ANY($1)"))) why WHERE reason IS NOT NULL", binds: binds)
        for try await (key, reason) in try await db.client.query(sql, logger: db.logger).decode((String, String).self) {
            out[key] = UnreachedReason(rawValue: reason)
        }
        return out
    }

    /// `key, reason` for the credentials `c` that `filter` keeps; the reason is NULL for one a
    /// model reaches. Agents a model's output reaches are those that use one and those they
    /// delegate to. Each break is a set joined once: the recursive set probed inside a
    /// per-credential `NOT EXISTS` was scanned again for every credential (47 s at 100k).
    static func reasons(of filter: String) -> String {
        """
        WITH RECURSIVE reached(agent_id) AS (
            SELECT agent_id FROM uses_model
            UNION SELECT d.delegate_id FROM delegates_to d JOIN reached r ON r.agent_id = d.agent_id),
        scope AS MATERIALIZED (SELECT c.id, c.key, c.state FROM credentials c WHERE \(filter)),
        reachable AS MATERIALIZED (SELECT DISTINCT h.credential_id FROM holds h JOIN reached r ON r.agent_id = h.agent_id JOIN scope s ON s.id = h.credential_id),
        held AS MATERIALIZED (SELECT DISTINCT h.credential_id FROM holds h JOIN scope s ON s.id = h.credential_id),
        granted AS MATERIALIZED (SELECT DISTINCT g.credential_id FROM grants g JOIN scope s ON s.id = g.credential_id)
        SELECT s.key, CASE
            WHEN s.state <> 'active' THEN '\(UnreachedReason.notLive.rawValue)'
            WHEN hd.credential_id IS NULL THEN '\(UnreachedReason.noHolder.rawValue)'
            WHEN gr.credential_id IS NULL THEN '\(UnreachedReason.noGrant.rawValue)'
            WHEN rc.credential_id IS NULL THEN '\(UnreachedReason.noModel.rawValue)'
        END AS reason
        FROM scope s
        LEFT JOIN held hd ON hd.credential_id = s.id
        LEFT JOIN granted gr ON gr.credential_id = s.id
        LEFT JOIN reachable rc ON rc.credential_id = s.id
        """
    }
}
