import Logging
import PostgresNIO

/// The `sleeper` database inside the embedded cluster, created on first use.
public enum EmbeddedDatabase {
    public static func create(_ settings: ConnectionSettings, logger: Logger) async throws {
        var maintenance = settings
        maintenance.database = "postgres"
        try await Database.open(maintenance, logger: logger, maximumConnections: 1) { db in
            let exists =
                try await db.client.query(
                    "SELECT count(*) FROM pg_database WHERE datname = \(settings.database)", logger: logger
                ).decode(Int.self).first { _ in true } ?? 0
            if exists == 0 {
                do {
                    try await db.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(settings.database)\""), logger: logger)
                } catch let error as PSQLError where ["42P04", "23505"].contains(error.serverInfo?[.sqlState] ?? "") {
                    // Created by a concurrent sleeper command between the check and here: PostgreSQL
                    // says so as duplicate_database (42P04) or, when both CREATEs ran at once, as a
                    // unique violation (23505) on pg_database's name index. Either way it exists.
                }
            }
        }
    }
}
