import Foundation
import PostgresNIO

/// Remembers the answers to writes made with an `Idempotency-Key`, per caller.
public struct IdempotencyKeys: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

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

    public func claim(actor: String, key: String, requestSHA256: String) async throws -> Claim {
        for try await _ in try await db.client.query("""
            INSERT INTO idempotency_keys (actor, key, request_sha256) VALUES (\(actor), \(key), \(requestSHA256))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: db.logger) { return .claimed }
        for try await (hash, status, response) in try await db.client.query(
            "SELECT request_sha256, status, response FROM idempotency_keys WHERE actor = \(actor) AND key = \(key)", logger: db.logger
        ).decode((String, Int?, String?).self) {
            guard hash == requestSHA256 else { return .mismatch }
            guard let status, let response else { return .inProgress }
            return .replay(status: status, response: response)
        }
        // Released between the two statements: the caller may try again.
        return .inProgress
    }

    public func complete(actor: String, key: String, status: Int, response: String) async throws {
        try await db.client.query("UPDATE idempotency_keys SET status = \(status), response = \(response) WHERE actor = \(actor) AND key = \(key)",
                                  logger: db.logger)
    }

    /// A request that failed before writing anything frees its key for a retry.
    public func release(actor: String, key: String) async throws {
        try await db.client.query("DELETE FROM idempotency_keys WHERE actor = \(actor) AND key = \(key) AND status IS NULL", logger: db.logger)
    }
}
