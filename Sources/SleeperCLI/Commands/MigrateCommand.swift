import ArgumentParser
import Foundation
import SleeperCore
import SleeperStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the schema migrations shipped with sleeper (Migrations/*.sql), or list them with --status.", discussion: HelpText.discussion("migrate"))

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "List applied and pending migrations without applying anything.")
    var status = false

    func run() async throws {
        try await connection.withDatabase(migrating: false) { db in
            let runner = MigrationRunner()
            if status {
                let s = try await runner.status(db)
                var rows: [[Listing.Cell]] = s.applied.map { [.text($0.filename), .text("applied"), .text(Timestamps.format($0.appliedAt))] }
                rows += s.pending.map { [.text($0), .text("pending"), .null] }
                Output.print(ListingRenderer.table(Listing(columns: ["migration", "state", "applied_at"], rows: rows)))
                return
            }
            let applied = try await runner.migrate(db)
            if applied.isEmpty {
                Output.print("schema is up to date (\(runner.migrations.count) migrations)\n")
            } else {
                for name in applied { Output.print("applied \(name)\n") }
            }
            let sync = try await CatalogStore(db).syncBundled()
            Output.print(
                sync.changed
                    ? "loaded catalogs: \(sync.frameworks) frameworks (\(sync.items) items), \(sync.controls) controls, \(sync.mappings) mappings\n"
                    : "catalogs are up to date\n")
        }
    }
}
