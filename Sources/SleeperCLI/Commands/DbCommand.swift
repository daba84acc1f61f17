import ArgumentParser
import Foundation
import SleeperStore

struct DbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Show or stop the database sleeper uses (the embedded cluster when none is configured).",
        subcommands: [Status.self, Stop.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where the database is, whether it answers, and its schema state.", discussion: HelpText.discussion("db status"))
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let environment = Invocation.environment
            let settings: ConnectionSettings
            if let configured = try ConnectionSettings.resolve(flag: connection.databaseURL, environment: environment) {
                settings = configured
            } else {
                let cluster = EmbeddedCluster(home: EmbeddedCluster.defaultHome(environment: environment))
                let s = cluster.status()
                Output.print(
                    """
                    database:  embedded cluster
                    home:      \(cluster.home.path)
                    data:      \(cluster.dataDirectory.path)\(s.initialized ? "" : " (not created yet; any sleeper command creates it)")
                    server:    \(s.running ? "running, pid \(s.pid ?? 0), PostgreSQL \(s.version ?? "?")"
                                 : s.pidWithoutServer ? "not answering: process \(s.pid ?? 0) exists but the socket refuses connections (starting, stopping, or crashed); any sleeper command restarts it once the process is gone"
                                 : "stopped (any sleeper command starts it)")
                    socket:    \(cluster.settings.redactedDescription)

                    """)
                guard s.running else { return }
                settings = cluster.settings
            }
            if settings.source != .embedded { Output.print("database:  \(settings.redactedDescription)\n") }
            try await Database.open(settings, logger: ConnectionOptions.logger) { db in
                let version =
                    try await db.client.query("SELECT current_setting('server_version')", logger: db.logger)
                    .decode(String.self).first { _ in true } ?? "?"
                let status = try await MigrationRunner().status(db)
                Output.print("reachable: yes, PostgreSQL \(version)\nschema:    \(status.applied.count) applied, \(status.pending.count) pending\n")
                guard status.pending.isEmpty else { return }
                let problems = try await LedgerVerifier(db).triggerProblems()
                guard problems.isEmpty else {
                    throw CommandFailure(message: "the ledgers are not protected:\n  " + problems.joined(separator: "\n  "))
                }
                Output.print("ledgers:   append-only triggers in place on evidence and audit_log\n")
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded cluster (a configured server is left alone).", discussion: HelpText.discussion("db stop"))

        func run() async throws {
            let cluster = EmbeddedCluster(home: EmbeddedCluster.defaultHome(environment: Invocation.environment))
            Output.print(try cluster.stop() ? "stopped the embedded cluster in \(cluster.dataDirectory.path)\n" : "the embedded cluster is not running\n")
        }
    }
}
