import Foundation
import PostgresNIO
import SleeperStore
import Testing

@Suite("Migrations", .timeLimit(.minutes(8)))
struct MigrationTests {
    @Test("a fresh database gets every migration, and a second run applies nothing")
    func freshThenRerun() async throws {
        try await TestDatabase.withFresh(migrated: false) { db in
            let runner = MigrationRunner()
            #expect(try await runner.status(db).pending == runner.migrations.map(\.filename))
            let applied = try await runner.migrate(db)
            #expect(applied == runner.migrations.map(\.filename))
            #expect(try await runner.migrate(db).isEmpty)
            #expect(try await runner.status(db).pending.isEmpty)
            #expect(try await db.count("SELECT count(*) FROM schema_migrations") == runner.migrations.count)
            #expect(try await db.count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'credentials'") == 1)
        }
    }

    @Test("an applied file that was edited afterwards is refused, naming the file")
    func editedFileRefused() async throws {
        try await TestDatabase.withFresh(migrated: true) { db in
            var edited = Migration.bundled
            edited[0] = Migration(filename: edited[0].filename, sql: edited[0].sql + "\n-- a later edit\n")
            let error = await #expect(throws: StoreError.self) { try await MigrationRunner(migrations: edited).migrate(db) }
            let message = error.map { "\($0)" } ?? ""
            #expect(message.contains("Migrations/\(edited[0].filename) was edited after it was applied"))
            await #expect(throws: StoreError.self) { try await MigrationRunner(migrations: edited).status(db) }
        }
    }

    @Test("a failing migration is rolled back whole and not recorded")
    func failingMigrationRollsBack() async throws {
        try await TestDatabase.withFresh(migrated: true) { db in
            let broken =
                Migration.bundled + [
                    Migration(
                        filename: "9999_broken.sql",
                        sql: """
                            CREATE TABLE half_done (id int);
                            SELECT * FROM no_such_table;
                            """)
                ]
            await #expect(throws: StoreError.self) { try await MigrationRunner(migrations: broken).migrate(db) }
            let leftovers = try await db.count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'")
            let pending = try await MigrationRunner(migrations: broken).status(db).pending
            #expect(leftovers == 0)
            #expect(pending == ["9999_broken.sql"])
        }
    }

    @Test("concurrent runs apply each migration exactly once")
    func concurrentRuns() async throws {
        try await TestDatabase.withFresh(migrated: false) { db in
            // A slow extra migration keeps the first run inside the lock while the others arrive.
            let slow = Migration.bundled + [Migration(filename: "9000_slow.sql", sql: "SELECT pg_sleep(0.5); CREATE TABLE slow_marker (id int);")]
            let runs = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 { group.addTask { try await MigrationRunner(migrations: slow).migrate(db) } }
                var all: [[String]] = []
                for try await applied in group { all.append(applied) }
                return all
            }
            #expect(runs.flatMap { $0 }.sorted() == slow.map(\.filename).sorted())
            #expect(runs.filter { !$0.isEmpty }.count == 1)
            #expect(try await db.count("SELECT count(*) FROM schema_migrations") == slow.count)
        }
    }
}
