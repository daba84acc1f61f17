import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// A running connection pool to Sleeper's database. Obtain one with `Database.open`, which checks
/// first that the server answers, so that a wrong address fails in seconds with a readable reason
/// instead of the pool retrying for a minute.
public struct Database: Sendable {
    public let client: PostgresClient
    public let settings: ConnectionSettings
    public let logger: Logger
    public var maximumConnections: Int = 4
    public var applicationName: String = "sleeper"

    public static func open<T: Sendable>(
        _ settings: ConnectionSettings,
        logger: Logger = Logger(label: "sleeper.store"),
        maximumConnections: Int = 4,
        applicationName: String = "sleeper",
        endOnLoss: Bool = false,
        stuckAfterLoss: (@Sendable () -> Void)? = nil,
        _ body: (Database) async throws -> T
    ) async throws -> T {
        try await preflight(settings, logger: logger)
        var config = try clientConfiguration(settings)
        config.options.connectTimeout = .seconds(5)
        config.options.maximumConnections = maximumConnections
        // Names the pool's sessions in pg_stat_activity, which is how the server reports pool usage.
        config.options.additionalStartupParameters = [("application_name", applicationName)]
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        let database = Database(client: client, settings: settings, logger: logger, maximumConnections: maximumConnections, applicationName: applicationName)
        // The pool runs beside the body and is closed when the body ends, waiting for it at most
        // `closingPatience`: a pool that never reports its last connection closed (seen as a
        // test run that never ended, with no session left on the server) must not hold the
        // command, or a test, for ever.
        let runner = Task { await client.run() }
        let outcome: Result<T, any Error>
        do {
            outcome = .success(
                try await withTaskCancellationHandler {
                    guard endOnLoss else { return try await body(database) }
                    // The body runs in a child task beside the watchdog; `endingOnLoss` awaits it
                    // before it returns, so it does not really escape.
                    return try await withoutActuallyEscaping(body) { escapable in
                        nonisolated(unsafe) let run = escapable
                        return try await database.endingOnLoss(stuck: stuckAfterLoss) { try await run(database) }
                    }
                } onCancel: {
                    runner.cancel()
                })
        } catch {
            outcome = .failure(error)
        }
        runner.cancel()
        if await withinSeconds(closingPatience, { await runner.value }) == nil {
            logger.warning("the connection pool did not close within \(Int(closingPatience)) s; left to close on its own")
        }
        return try outcome.get()
    }

    /// How long `open` waits for its pool to close once the body has ended.
    static let closingPatience: Double = 10

    /// Runs `body`, but ends it when the server stops accepting connections for `grace` seconds.
    /// Without this a command whose server died waited on the pool, which retries for over a
    /// minute before it gives up; a one-shot command should say so within seconds instead. The
    /// body's own verdict on a lost connection (nothing written, or commit unknown) wins.
    ///
    /// Structured on purpose: `Database.open` hands in a closure that must not outlive the call,
    /// so the body is always awaited here, and a body stuck in the driver is ended by `stuck`
    /// (which ends the process) rather than left running. The service, whose handlers may be
    /// left running, uses `raceAgainstLoss` instead.
    func endingOnLoss<T: Sendable>(
        grace: Double = 3, stuck: (@Sendable () -> Void)? = nil,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let liveness = DatabaseLiveness(settings, logger: logger)
        return try await withThrowingTaskGroup(of: LossWatchOutcome<T>.self) { group in
            group.addTask { .done(try await body()) }
            group.addTask {
                await liveness.watch(every: .milliseconds(500), returningAfterDown: .seconds(grace))
                return .lost
            }
            defer { group.cancelAll() }
            do {
                guard let first = try await group.next() else { throw StoreError.connectionLost }
                if case .done(let value) = first { return value }
            } catch let error as StoreError {
                throw error
            } catch {
                if !StoreError.isConnectionLoss(error) { throw error }
            }
            // The server is gone: stop the body and keep its own account of what happened. A body
            // stuck in the driver past that (a lost connection the driver never reports) cannot be
            // waited for; `stuck` ends the process then, saying the outcome is unknown.
            group.cancelAll()
            let watchdog = stuck.map { stuck in
                Task {
                    try await Task.sleep(for: .seconds(5)); stuck()
                }
            }
            defer { watchdog?.cancel() }
            do {
                while let next = try await group.next() { if case .done(let value) = next { return value } }
            } catch let error as StoreError {
                if case .commitUnknown = error { throw error }
            } catch {}
            throw StoreError.lostBeforeCommit(reason: "the server stopped accepting connections")
        }
    }

    /// One connection, bounded in time, whose failure becomes a `StoreError.unreachable`.
    static func preflight(_ settings: ConnectionSettings, logger: Logger, timeout: Double = 8) async throws {
        do {
            try await withOneConnection(settings, logger: logger, timeout: timeout) { _ in }
        } catch {
            throw StoreError.unreachable(settings.redactedDescription, reason: StoreError.describe(error))
        }
    }

    /// `body` on a connection of its own (not the pool's), connecting and running within `timeout`.
    static func withOneConnection<T: Sendable>(
        _ settings: ConnectionSettings, logger: Logger, timeout: Double,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        var config = try connectionConfiguration(settings)
        config.options.connectTimeout = .seconds(Int64(min(5, max(1, timeout))))
        let configuration = config
        return try await withTimeout(seconds: timeout) {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            defer { Task { try? await connection.close() } }
            return try await body(connection)
        }
    }

    static func clientConfiguration(_ s: ConnectionSettings) throws -> PostgresClient.Configuration {
        switch s.endpoint {
        case .unixSocket(let path):
            return .init(unixSocketPath: path, username: s.user, password: s.password, database: s.database)
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS
            switch s.tls {
            case .disable: tls = .disable
            case .allow, .prefer: tls = .prefer(tlsConfiguration(s.tls))
            case .require, .verifyCA, .verifyFull: tls = .require(tlsConfiguration(s.tls))
            }
            return .init(host: host, port: port, username: s.user, password: s.password, database: s.database, tls: tls)
        }
    }

    static func connectionConfiguration(_ s: ConnectionSettings) throws -> PostgresConnection.Configuration {
        switch s.endpoint {
        case .unixSocket(let path):
            return .init(unixSocketPath: path, username: s.user, password: s.password, database: s.database)
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            switch s.tls {
            case .disable: tls = .disable
            case .allow, .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration(s.tls)))
            case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration(s.tls)))
            }
            return .init(host: host, port: port, username: s.user, password: s.password, database: s.database, tls: tls)
        }
    }

    /// libpq's modes: only verify-ca and verify-full check the server's certificate.
    static func tlsConfiguration(_ mode: ConnectionSettings.TLSMode) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        return tls
    }
}

enum LossWatchOutcome<T: Sendable>: Sendable { case done(T), lost }
