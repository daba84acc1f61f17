import Foundation
import Logging
import PostgresNIO

/// Remembers the answers to writes made with an `Idempotency-Key`, per caller.
public struct IdempotencyKeys: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// The key of the request this task serves. Every transaction committed while it is set
    /// records its id on the key's row before its COMMIT (`Database.transaction`), so the row
    /// knows whether the write committed even when its answer was lost.
    public struct Current: Sendable {
        public var actor: String; public var key: String
        public init(actor: String, key: String) { self.actor = actor; self.key = key }
    }
    @TaskLocal public static var current: Current?

    /// Marks the current key's write committed, on the write's own transaction.
    static func markCommitted(xid: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        guard let current else { return }
        try await connection.query("UPDATE idempotency_keys SET committed_xid = \(xid) WHERE actor = \(current.actor) AND key = \(current.key)", logger: logger)
    }

    /// How long a key may stay in progress before a retry settles it from what its write did.
    public static let defaultPendingSeconds = 600

    public enum Claim: Sendable, Equatable {
        /// The key is new: do the work, then `complete` (or `release` on failure).
        case claimed
        /// The same request was answered before: here is the answer.
        case replay(status: Int, response: String)
        /// The key was used for a different request.
        case mismatch
        /// The first request with this key has not finished.
        case inProgress
    }

    /// `pendingSeconds`: a key in progress for longer is settled from what its write did: the
    /// write committed (its transaction marked the key) — answered so, from now on; it did not —
    /// claimed again, and the retry runs it.
    public func claim(actor: String, key: String, requestSHA256: String, pendingSeconds: Int = defaultPendingSeconds) async throws -> Claim {
        for try await _ in try await db.client.query(
            """
            INSERT INTO idempotency_keys (actor, key, request_sha256) VALUES (\(actor), \(key), \(requestSHA256))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: db.logger)
        { return .claimed }
        for try await (hash, status, response, xid, stale) in try await db.client.query(
            """
            SELECT request_sha256, status, response, committed_xid, created_at < now() - make_interval(secs => \(pendingSeconds))
            FROM idempotency_keys WHERE actor = \(actor) AND key = \(key)
            """, logger: db.logger
        ).decode((String, Int?, String?, Int64?, Bool).self) {
            guard hash == requestSHA256 else { return .mismatch }
            if let status, let response { return .replay(status: status, response: response) }
            guard stale else { return .inProgress }
            if let xid {
                let answer = Self.committedAnswer(xid: xid)
                try await complete(actor: actor, key: key, status: 200, response: answer)
                return .replay(status: 200, response: answer)
            }
            for try await _ in try await db.client.query(
                """
                UPDATE idempotency_keys SET created_at = now() WHERE actor = \(actor) AND key = \(key)
                  AND status IS NULL AND committed_xid IS NULL AND created_at < now() - make_interval(secs => \(pendingSeconds))
                RETURNING 1
                """, logger: db.logger)
            { return .claimed }
            return .inProgress
        }
        // Released between the two statements: the caller may try again.
        return .inProgress
    }

    public func complete(actor: String, key: String, status: Int, response: String) async throws {
        try await db.client.query(
            "UPDATE idempotency_keys SET status = \(status), response = \(response) WHERE actor = \(actor) AND key = \(key)",
            logger: db.logger)
    }

    /// A request that failed before writing anything frees its key for a retry; one whose write
    /// committed keeps it (a retry must not apply it twice).
    public func release(actor: String, key: String) async throws {
        try await db.client.query(
            "DELETE FROM idempotency_keys WHERE actor = \(actor) AND key = \(key) AND status IS NULL AND committed_xid IS NULL",
            logger: db.logger)
    }

    /// The answer a key settles with when its write committed and its first answer was lost.
    static func committedAnswer(xid: Int64) -> String {
        """
        {
          "outcome": "committed",
          "transaction": \(xid),
          "message": "the first request with this Idempotency-Key committed its change (transaction \(xid)), but its answer was lost when the database went away; it was not applied again. The audit log has the change."
        }
        """
    }
}
