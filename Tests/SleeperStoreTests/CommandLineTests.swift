import Foundation
import SleeperStore
import Testing

/// The real `sleeper` executable, run as a user would run it.
@Suite("Command line", .timeLimit(.minutes(8)))
struct CommandLineTests {
    @Test("an unreachable database fails within seconds with a clear message")
    func unreachableIsQuick() async throws {
        // A process of its own: the bound is the command's, not the shared runner's.
        let run = try await Fixtures.sleeperProcess(["inventory", "models", "--database-url", "postgres://nobody@127.0.0.1:1/none?sslmode=disable"])
        #expect(run.status == 75)
        #expect(run.stderr.contains("cannot reach PostgreSQL at postgres://nobody@127.0.0.1:1/none"))
        #expect(run.stderr.contains("connection refused"))
        #expect(run.seconds < 10)
    }

    @Test("a missing unix socket from PGHOST is reported, not waited on")
    func missingSocket() async throws {
        let run = try await Fixtures.sleeper(["migrate", "--status"], environment: ["PGHOST": "/nonexistent-dir", "PGUSER": "x"])
        #expect(run.status == 75)
        #expect(run.stderr.contains("/nonexistent-dir/.s.PGSQL.5432"))
        #expect(run.seconds < 10)
    }

    @Test("import reports every problem with file and path, exits 1, and writes nothing")
    func importErrors() async throws {
        try await TestDatabase.withFresh { db in
            let url = TestDatabase.url(for: db.settings)
            let bad = FileManager.default.temporaryDirectory.appending(path: "bad-\(UUID().uuidString).yaml")
            try Data(
                """
                resources: [{key: r1, tier: 9}]
                agents: [{key: a1, holds: [{credential: ghost, delivery: runtime_env}]}]
                """.utf8
            ).write(to: bad)
            let run = try await Fixtures.sleeper(["import", bad.path, "--database-url", url])
            #expect(run.status == 1)
            #expect(run.stderr.contains("\(bad.path): resources[0].tier: must be between 0 and 3, got 9"))
            #expect(run.stderr.contains("nothing was written"))
            #expect(try await db.count("SELECT count(*) FROM agents") == 0)
        }
    }

    @Test("a configured database that was not migrated is refused with the fix")
    func unmigratedRefused() async throws {
        try await TestDatabase.withFresh(migrated: false) { db in
            let run = try await Fixtures.sleeper(["inventory", "agents", "--database-url", TestDatabase.url(for: db.settings)])
            #expect(run.status == 1)
            #expect(run.stderr.contains("run `sleeper migrate`"))
            let migrate = try await Fixtures.sleeper(["migrate", "--database-url", TestDatabase.url(for: db.settings)])
            #expect(migrate.status == 0)
            #expect(migrate.stdout.contains("applied 0001_inventory.sql"))
            #expect(migrate.stdout.contains("loaded catalogs: 5 frameworks"))
        }
    }

    @Test("with nothing configured, the embedded cluster is created, migrated, used and stopped")
    func embeddedCluster() async throws {
        guard let base = ProcessInfo.processInfo.environment["SLEEPER_TEST_HOME"] else {
            Issue.record("SLEEPER_TEST_HOME is not set: run the tests with scripts/test")
            return
        }
        let home = ["SLEEPER_HOME": base + "/embedded-\(UUID().uuidString.prefix(8))"]
        let example = Fixtures.packageRoot.appending(path: "Examples/inventory.yaml").path
        let imported = try await Fixtures.sleeper(["import", example], environment: home)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported in"))
        let listed = try await Fixtures.sleeper(["inventory", "models", "--format", "csv"], environment: home)
        #expect(listed.stdout.split(separator: "\r\n").count == 13)  // header + 12 models
        let status = try await Fixtures.sleeper(["db", "status"], environment: home)
        #expect(status.stdout.contains("server:    running"))
        #expect(status.stdout.contains("0 pending"))
        let stopped = try await Fixtures.sleeper(["db", "stop"], environment: home)
        #expect(stopped.stdout.contains("stopped the embedded cluster"))
        // Started again on demand, with the data still there.
        let again = try await Fixtures.sleeper(["inventory", "credentials", "--format", "json"], environment: home)
        #expect(again.stdout.contains("\"key\": \"payments-api-key\""))
        _ = try await Fixtures.sleeper(["db", "stop"], environment: home)
    }
}

@Suite("Help", .timeLimit(.minutes(8)))
struct HelpTests {
    @Test("every command's --help ends with examples and states the date format where it takes dates; exposure's help lists its default subcommand's options")
    func help() async throws {
        let commands = [
            "import", "inventory", "frameworks", "controls list", "controls show", "evidence add", "evidence import", "evidence list",
            "verify", "gaps", "coverage", "score", "exposure", "exposure list", "exposure diff", "explain", "report", "export",
            "verify-bundle", "keys create", "serve", "token create", "token rotate", "token revoke", "audit", "migrate", "db status",
            "scan model", "scan dataset", "observe import", "findings", "findings mark",
        ]
        for command in commands {
            let run = try await Fixtures.sleeper(command.split(separator: " ").map(String.init) + ["--help"])
            #expect(run.status == 0, "\(command)")
            #expect(run.stdout.contains("Examples:\n  sleeper "), "\(command) --help has no examples")
            let words = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if run.stdout.contains("--as-of") { #expect(words.contains("the end of that day"), "\(command) --help does not say what a date means") }
        }
        let exposure = try await Fixtures.sleeper(["help", "exposure"])
        for option in ["--top", "--band", "--min-score", "--owner", "--resource", "--run", "--format"] {
            #expect(exposure.stdout.contains(option), "sleeper help exposure lacks \(option)")
        }
    }
}
