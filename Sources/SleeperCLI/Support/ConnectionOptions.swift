import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SleeperCore
import SleeperStore

/// `--database-url`, shared by every command that reads or writes the store.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: "postgres:// URL of the database. Default: $DATABASE_URL, then the PG* variables, then the embedded cluster.")
    var databaseURL: String?

    /// Opens the configured database; with nothing configured, starts the embedded cluster and
    /// brings its schema up to date. A configured database must have been migrated already.
    /// Five connections: a run's load issues four queries at once, and the run lock holds a fifth.
    /// A command ends within seconds of its server going away (`endOnLoss`); the long-running
    /// service turns it off and answers 503 meanwhile.
    /// `settlingOwed`: first settle the rescores committed changes are owed (a rescore cut short by
    /// a killed process or database), so that what the command reads is current; the service
    /// settles them itself.
    func withDatabase<T: Sendable>(
        migrating: Bool = true, maximumConnections: Int = 5, applicationName: String = "sleeper", endOnLoss: Bool = true,
        settlingOwed: Bool = true, _ body: (Database) async throws -> T
    ) async throws -> T {
        let environment = Invocation.environment
        let logger = Self.logger
        if let settings = try ConnectionSettings.resolve(flag: databaseURL, environment: environment) {
            return try await Database.open(
                settings, logger: logger, maximumConnections: maximumConnections, applicationName: applicationName,
                endOnLoss: endOnLoss, stuckAfterLoss: Self.stuckAfterLoss
            ) { db in
                if migrating { try await MigrationRunner().requireCurrent(db) }
                if settlingOwed && migrating { await Self.settleOwed(db) }
                return try await body(db)
            }
        }
        let cluster = EmbeddedCluster(home: EmbeddedCluster.defaultHome(environment: environment))
        let settings = try cluster.ensureRunning()
        try await EmbeddedDatabase.create(settings, logger: logger)
        return try await Database.open(
            settings, logger: logger, maximumConnections: maximumConnections, applicationName: applicationName,
            endOnLoss: endOnLoss, stuckAfterLoss: Self.stuckAfterLoss
        ) { db in
            if migrating {
                try await MigrationRunner().migrate(db)
                try await CatalogStore(db).syncBundled()
                if settlingOwed { await Self.settleOwed(db) }
            }
            return try await body(db)
        }
    }
}

extension ConnectionOptions {
    /// Settles what is owed, saying so; when it cannot, says how far behind the scores are.
    static func settleOwed(_ db: Database) async {
        switch await IncrementalRescore(db).settleOwed() {
        case .nothingOwed: break
        case .settled(let behind, let outcome):
            Output.error("sleeper: \(behind.changes) committed change(s) were owed a rescore (\(behind.triggers.prefix(3).joined(separator: "; "))): \(outcome.summary)")
        case .behind(let behind, let why):
            Output.error("sleeper: \(behind.summary) (settling failed: \(why))")
        }
    }

    /// The database went away and the command did not end within seconds of it: say so and exit
    /// 76, since whether a change it was making was committed cannot be told from here.
    static let stuckAfterLoss: @Sendable () -> Void = {
        Output.error("sleeper: \(StoreError.outcomeUnknown)")
        Foundation.exit(76)
    }

    /// Quiet unless asked: `SLEEPER_LOG_LEVEL=debug` shows the driver's messages.
    static var logger: Logger {
        // Run in process, the log belongs to the run's output like everything else it writes.
        var logger = Invocation.logger(label: "sleeper")
        logger.logLevel = Invocation.environment["SLEEPER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }
}

/// Output format for listings.
struct FormatOption: ParsableArguments {
    @Option(name: .long, help: "Output format: table, json, csv or markdown.")
    var format: OutputFormat = .table
}

extension OutputFormat: ExpressibleByArgument {}
