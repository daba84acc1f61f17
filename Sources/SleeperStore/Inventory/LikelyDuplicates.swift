import Foundation
import PostgresNIO
import SleeperCore

/// Models that are probably one real thing stored under two keys, because two sources name it
/// differently: the same content digest; the same Hugging Face id (`org/name`) as a BOM's
/// `group/name@version`; a model card's folder (`acme-support-ft`) and a BOM's `acme/support-ft@2.1`.
/// Listed with the reason for a person to decide; nothing is merged here. (Models with one digest
/// are merged by the next import, `ModelIdentity`: until then, an estate stored before that rule
/// lists them here.)
public struct LikelyDuplicates: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Pair: Sendable, Equatable {
        public var first: String, second: String
        public var reason: String
    }

    /// A key's name without its version, case, or the separators sources disagree on.
    static let folded = "lower(regexp_replace(regexp_replace(key, '@[^@/]*$', ''), '[/_ .]+', '-', 'g'))"

    public func models() async throws -> [Pair] {
        var out: [Pair] = []
        // By name: not two versions of one model (both versioned, differently), and not two
        // different contents (both digested, differently).
        let sql = PostgresQuery(
            unsafeSQL: """
                WITH m AS (SELECT key, digest, \(Self.folded) AS folded, substring(key from '@([^@/]*)$') AS version FROM models)
                SELECT a.key, b.key, 'the same content digest ' || a.digest FROM m a JOIN m b ON a.digest = b.digest AND a.key < b.key
                UNION ALL
                SELECT a.key, b.key, 'the same name once version, case and separators are set aside (' || a.folded || ')'
                FROM m a JOIN m b ON a.folded = b.folded AND a.key < b.key
                WHERE NOT (a.version IS NOT NULL AND b.version IS NOT NULL AND a.version <> b.version)
                  AND NOT (a.digest IS NOT NULL AND b.digest IS NOT NULL)
                ORDER BY 1, 2
                """)
        for try await (a, b, reason) in try await db.client.query(sql, logger: db.logger).decode((String, String, String).self) {
            out.append(Pair(first: a, second: b, reason: reason))
        }
        return out
    }
}
