import Foundation
import NIOConcurrencyHelpers
import PostgresNIO

/// Serialises the making of current runs across processes. A run reads the latest run and the
/// state of the store, computes, and commits; two at once would each build on the same latest run
/// and the later commit would carry the earlier one's credentials at their old scores. Holding one
/// PostgreSQL advisory lock from the first read to the commit makes every current run see every
/// change committed before it, so the latest run always equals a full run made at the same time.
/// The lock is a session lock on a pooled connection, so a process that dies lets it go.
///
/// Within a process only one task at a time waits for it. Each waiter used to hold a pooled
/// connection while it waited, and the holder needs connections of the same pool for its reads
/// and its COPY: with as many concurrent writes as connections, every connection sat waiting on
/// the lock and the holder waited for a connection forever (`serve --pool 8`, 9 concurrent
/// `POST /v1/evidence`: no answer in 60 s). Waiters now wait in memory, without a connection, and
/// every wait is bounded.
enum RunLock {
    /// An arbitrary constant: the ASCII of "sleeprun".
    static let key: Int64 = 0x736c_6565_7072_756e

    /// How long a rescore waits for the others before it gives up. The change it follows is
    /// committed and its rescore owed, so giving up loses nothing: the next one settles it.
    static let patience: Duration = .seconds(300)

    /// The pools of this process whose one waiter is taken.
    private static let taken = NIOLockedValueBox<Set<ObjectIdentifier>>([])

    static func holding<T: Sendable>(_ db: Database, patience: Duration = patience, _ body: () async throws -> T) async throws -> T {
        let pool = ObjectIdentifier(db.client)
        let clock = ContinuousClock(), deadline = clock.now + patience
        while !taken.withLockedValue({ $0.insert(pool).inserted }) {
            guard clock.now < deadline else { throw waitedTooLong(patience) }
            try await Task.sleep(for: .milliseconds(5))
        }
        defer { _ = taken.withLockedValue { $0.remove(pool) } }
        return try await db.client.withConnection { connection in
            // Another process may hold it: PostgreSQL's own wait, bounded by what patience is left.
            let left = max(1, Int((deadline - clock.now).components.seconds))
            try await connection.query("SELECT set_config('lock_timeout', \("\(left)s"), false)", logger: db.logger)
            do {
                try await connection.query("SELECT pg_advisory_lock(\(key))", logger: db.logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
                throw waitedTooLong(patience)
            }
            try await connection.query("SELECT set_config('lock_timeout', '0', false)", logger: db.logger)
            PhaseTiming.report("run lock held")
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

    static func waitedTooLong(_ patience: Duration) -> StoreError {
        .invalidInput(
            "another scoring run held the run lock for more than \(patience.components.seconds) s; the change is committed and its rescore is owed: the next command that reads scores settles it (or run `sleeper score`)"
        )
    }
}
