import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// Applies `Migrations/*.sql` in order, each in its own transaction, recording each file's SHA-256.
/// A session advisory lock serialises concurrent runs; the second waits, then finds nothing to do.
public struct MigrationRunner: Sendable {
    public struct Status: Sendable, Equatable {
        public var applied: [(filename: String, appliedAt: Date)]
        public var pending: [String]
        public static func == (a: Status, b: Status) -> Bool {
            a.applied.map(\.filename) == b.applied.map(\.filename) && a.pending == b.pending
        }
    }

    /// Arbitrary but fixed: the key of the advisory lock that only migration runs take.
    static let lockKey: Int64 = 0x5_1EE9_E12

    public let migrations: [Migration]
    public init(migrations: [Migration] = Migration.bundled) { self.migrations = migrations }

    static let createLedger = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    text PRIMARY KEY,
            filename   text NOT NULL,
            sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Applies what is pending and returns the filenames applied by this run.
    @discardableResult
    public func migrate(_ db: Database) async throws -> [String] {
        try await db.client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: db.logger)
            do {
                let applied = try await applyPending(connection, logger: db.logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: db.logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: db.logger)
                throw error
            }
        }
    }

    public func status(_ db: Database) async throws -> Status {
        try await db.client.withConnection { connection in
            let applied = try await appliedRecords(connection, logger: db.logger)
            try verify(applied)
            let done = Set(applied.map(\.version))
            return Status(
                applied: applied.map { ($0.filename, $0.appliedAt) },
                pending: migrations.filter { !done.contains($0.version) }.map(\.filename))
        }
    }

    /// Fails with `notMigrated` unless every bundled migration has been applied unchanged.
    public func requireCurrent(_ db: Database) async throws {
        let status = try await status(db)
        if !status.pending.isEmpty { throw StoreError.notMigrated(pending: status.pending) }
    }

    private func applyPending(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.query(PostgresQuery(unsafeSQL: Self.createLedger), logger: logger)
        let applied = try await appliedRecords(connection, logger: logger)
        try verify(applied)
        let done = Set(applied.map(\.version))
        var ran: [String] = []
        for migration in migrations where !done.contains(migration.version) {
            do {
                try await connection.query("BEGIN", logger: logger)
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO schema_migrations (version, filename, sha256)
                    VALUES (\(migration.version), \(migration.filename), \(migration.sha256))
                    """, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw StoreError.migration("Migrations/\(migration.filename) failed and was rolled back: \(StoreError.describe(error))")
            }
            ran.append(migration.filename)
        }
        return ran
    }

    struct AppliedRecord {
        var version: String, filename: String, sha256: String, appliedAt: Date
    }

    private func appliedRecords(_ connection: PostgresConnection, logger: Logger) async throws -> [AppliedRecord] {
        let exists =
            try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
            .decode(Bool.self).first { _ in true } ?? false
        guard exists else { return [] }
        var records: [AppliedRecord] = []
        for try await (version, filename, sha, at) in try await connection.query(
            "SELECT version, filename, sha256, applied_at FROM schema_migrations ORDER BY version", logger: logger
        ).decode((String, String, String, Date).self) {
            records.append(AppliedRecord(version: version, filename: filename, sha256: sha, appliedAt: at))
        }
        return records
    }

    /// An applied file must never change: the database was built from the old text.
    private func verify(_ applied: [AppliedRecord]) throws {
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for record in applied {
            guard let migration = byVersion[record.version] else {
                throw StoreError.migration("the database has migration \(record.filename), which this sleeper does not ship; it was migrated by a newer version")
            }
            if migration.sha256 != record.sha256 {
                throw StoreError.migration(
                    """
                    Migrations/\(migration.filename) was edited after it was applied on \(Timestamps.formatDay(record.appliedAt)) \
                    (applied sha256 \(record.sha256.prefix(12))…, file now \(migration.sha256.prefix(12))…). \
                    Applied migrations must not change: restore the file and put the change in a new migration.
                    """)
            }
        }
    }
}
