import Foundation
import Logging
import PostgresNIO
import SleeperStore
import Testing

/// A fresh database per test on the throwaway server that `scripts/test` starts, so that tests
/// run in parallel without seeing each other's rows. There is no fallback: without the server,
/// tests fail and say how to run them.
enum TestDatabase {
    static var adminSettings: ConnectionSettings {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["SLEEPER_TEST_DATABASE_URL"] else {
                throw StoreError.invalidInput("SLEEPER_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
            }
            return try #require(try ConnectionSettings.resolve(flag: url, environment: [:]))
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "sleeper.tests")
        logger.logLevel = .error
        return logger
    }

    /// A fresh migrated database with the bundled catalogs, and its URL for the command line.
    static func withCatalogs<T: Sendable>(_ body: (Database, String) async throws -> T) async throws -> T {
        try await withFresh { db in
            _ = try await CatalogStore(db).syncBundled()
            return try await body(db, url(for: db.settings))
        }
    }

    /// Creates an empty database, optionally migrated, runs `body`, then drops it.
    static func withFresh<T: Sendable>(migrated: Bool = true, _ body: (Database) async throws -> T) async throws -> T {
        let admin = try adminSettings
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let watch = PhaseWatch.shared
        try await watch.watch("\(name): create") {
            try await Database.open(admin, logger: logger, maximumConnections: 1) { db in
                try await db.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            }
        }
        var settings = admin
        settings.database = String(name)
        let opening = watch.begin("\(name): open")
        var closing = 0
        defer { watch.end(opening); watch.end(closing) }
        do {
            let result = try await Database.open(settings, logger: logger) { db in
                watch.end(opening)
                if migrated { try await watch.watch("\(name): migrate") { try await MigrationRunner().migrate(db) } }
                let value = try await watch.watch("\(name): body", patience: 960) { try await body(db) }
                closing = watch.begin("\(name): close pool")
                return value
            }
            watch.end(closing)
            try await watch.watch("\(name): drop") { try await drop(String(name)) }
            return result
        } catch {
            try? await drop(String(name))
            throw error
        }
    }

    static func url(for settings: ConnectionSettings) -> String {
        guard case .tcp(let host, let port) = settings.endpoint else { return "" }
        return "postgres://\(settings.user)@\(host):\(port)/\(settings.database)?sslmode=disable"
    }

    private static func drop(_ name: String) async throws {
        try await Database.open(try adminSettings, logger: logger, maximumConnections: 1) { db in
            try await db.client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }
}

extension Database {
    /// One integer from a query, for assertions.
    func count(_ sql: String) async throws -> Int {
        for try await n in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) { return n }
        return 0
    }
}
