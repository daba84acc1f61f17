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
        _ body: (Database) async throws -> T
    ) async throws -> T {
        try await preflight(settings, logger: logger)
        var config = try clientConfiguration(settings)
        config.options.connectTimeout = .seconds(5)
        config.options.maximumConnections = maximumConnections
        // Names the pool's sessions in pg_stat_activity, which is how the server reports pool usage.
        config.options.additionalStartupParameters = [("application_name", applicationName)]
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Database(client: client, settings: settings, logger: logger,
                                           maximumConnections: maximumConnections, applicationName: applicationName))
        }
    }

    /// One connection, bounded in time, whose failure becomes a `StoreError.unreachable`.
    static func preflight(_ settings: ConnectionSettings, logger: Logger) async throws {
        var config = try connectionConfiguration(settings)
        config.options.connectTimeout = .seconds(5)
        let configuration = config
        do {
            let connection = try await withTimeout(seconds: 8) {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            }
            try? await connection.close()
        } catch {
            throw StoreError.unreachable(settings.redactedDescription, reason: StoreError.describe(error))
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

func withTimeout<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw StoreError.timedOut(seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
