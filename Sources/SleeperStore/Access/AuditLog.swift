import Foundation
import PostgresNIO
import SleeperCore

/// The append-only record of changes: written in the same transaction as the change it records,
/// so a change and its audit entry land together or not at all.
public struct AuditLog: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Entry: Sendable {
        public var id: Int
        public var at: Date
        public var actor: String
        public var action: String
        public var target: String?
        public var detail: String
    }

    /// Who acts when no token does: the command line, as its operating-system user.
    public static var commandLineActor: String {
        let env = ProcessInfo.processInfo.environment
        return "cli:" + (env["USER"] ?? env["LOGNAME"] ?? ProcessInfo.processInfo.userName)
    }

    static func record(
        actor: String, action: String, target: String?, detail: [String: String],
        on tx: PostgresConnection, logger: Logger
    ) async throws {
        // No audit row holds a value judged secret, whatever quoted it.
        let json = "{" + detail.sorted { $0.key < $1.key }.map { "\(JSONText.string($0.key)):\(JSONText.string(SecretScanner.redacted($0.value)))" }.joined(separator: ",") + "}"
        let (actor, target) = (SecretScanner.redacted(actor), target.map(SecretScanner.redacted))
        try await tx.query("INSERT INTO audit_log (actor, action, target, detail) VALUES (\(actor), \(action), \(target), \(json)::jsonb)", logger: logger)
    }

    /// An entry on its own, for events that change nothing else: an export, a report, a key
    /// made, a request refused.
    public func record(actor: String, action: String, target: String?, detail: [String: String]) async throws {
        try await db.transaction { tx in try await Self.record(actor: actor, action: action, target: target, detail: detail, on: tx, logger: db.logger) }
    }

    /// `latest`: the last `limit` entries (still in order), as `audit --limit 3` means; otherwise
    /// the first, for paging through from `since`.
    public func entries(since: Date?, limit: Int = 1000, offset: Int = 0, latest: Bool = false) async throws -> [Entry] {
        var out: [Entry] = []
        for try await (id, at, actor, action, target, detail) in try await db.client.query(
            """
            SELECT id, at, actor, action, target, detail FROM (
                SELECT id, at, actor, action, target, detail::text FROM audit_log
                WHERE (\(since)::timestamptz IS NULL OR at >= \(since))
                ORDER BY CASE WHEN \(latest) THEN -id ELSE id END LIMIT \(limit) OFFSET \(offset)) e
            ORDER BY id
            """, logger: db.logger
        ).decode((Int, Date, String, String, String?, String).self) {
            out.append(Entry(id: id, at: at, actor: actor, action: action, target: target, detail: detail))
        }
        return out
    }
}
