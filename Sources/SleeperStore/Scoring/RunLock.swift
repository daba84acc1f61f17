import Foundation
import PostgresNIO

/// Serialises the making of current runs across processes. A run reads the latest run and the
/// state of the store, computes, and commits; two at once would each build on the same latest run
/// and the later commit would carry the earlier one's credentials at their old scores. Holding one
/// PostgreSQL advisory lock from the first read to the commit makes every current run see every
/// change committed before it, so the latest run always equals a full run made at the same time.
/// The lock is a session lock on a connection of its own, so a process that dies lets it go.
enum RunLock {
    /// An arbitrary constant: the ASCII of "sleeprun".
    static let key: Int64 = 0x736c_6565_7072_756e

    static func holding<T: Sendable>(_ db: Database, _ body: () async throws -> T) async throws -> T {
        try await db.client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(key))", logger: db.logger)
            do {
                let result = try await body()
                try await connection.query("SELECT pg_advisory_unlock(\(key))", logger: db.logger)
                return result
            } catch {
                // Should the unlock fail too, closing the connection (with the pool) releases the lock.
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(key))", logger: db.logger)
                throw error
            }
        }
    }
}
