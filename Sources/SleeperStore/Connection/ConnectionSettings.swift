import Foundation

/// Where the database is, resolved the way Postgres users expect: `--database-url`, then
/// `DATABASE_URL`, then libpq's `PG*` variables; with none of them, Sleeper's embedded cluster.
public struct ConnectionSettings: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// Path of the socket file itself (`DIR/.s.PGSQL.PORT`), which postgres-nio wants.
        case unixSocket(path: String)
    }

    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Which setting decided, so that `sleeper db status` and errors can say where a value came from.
    public enum Source: String, Sendable, Equatable {
        case flag = "--database-url"
        case databaseURL = "DATABASE_URL"
        case libpq = "PG* environment variables"
        case embedded = "embedded cluster"
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var source: Source

    public init(
        endpoint: Endpoint, user: String, password: String? = nil, database: String,
        tls: TLSMode = .prefer, source: Source
    ) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.source = source
    }

    /// Shown to users: never includes the password.
    public var redactedDescription: String {
        switch endpoint {
        case .tcp(let host, let port): return "postgres://\(user)@\(host):\(port)/\(database) (from \(source.rawValue))"
        case .unixSocket(let path): return "postgres://\(user)@/\(database)?host=\(path) (from \(source.rawValue))"
        }
    }
}

public struct ConnectionSettingsError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

extension ConnectionSettings {
    static let libpqVariables = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "PGHOSTADDR"]

    /// nil means nothing was configured: use the embedded cluster.
    public static func resolve(flag: String?, environment: [String: String]) throws -> ConnectionSettings? {
        if let flag, !flag.isEmpty { return try parse(url: flag, source: .flag, environment: environment) }
        if let url = environment["DATABASE_URL"], !url.isEmpty { return try parse(url: url, source: .databaseURL, environment: environment) }
        guard libpqVariables.contains(where: { !(environment[$0] ?? "").isEmpty }) else { return nil }
        return try fromLibpq(environment)
    }

    static func fromLibpq(_ env: [String: String]) throws -> ConnectionSettings {
        let user = nonEmpty(env["PGUSER"]) ?? nonEmpty(env["USER"]) ?? "postgres"
        let port = try parsePort(nonEmpty(env["PGPORT"]) ?? "5432", what: "PGPORT")
        let host = nonEmpty(env["PGHOST"]) ?? nonEmpty(env["PGHOSTADDR"]) ?? "/var/run/postgresql"
        let tls = try parseTLS(nonEmpty(env["PGSSLMODE"]), what: "PGSSLMODE")
        return ConnectionSettings(
            endpoint: endpoint(host: host, port: port),
            user: user, password: nonEmpty(env["PGPASSWORD"]),
            database: nonEmpty(env["PGDATABASE"]) ?? user,
            tls: tls, source: .libpq)
    }

    /// `postgres[ql]://[user[:password]@][host][:port][/database][?sslmode=…&host=/socket/dir]`.
    /// Fields missing from the URL fall back to the libpq variables, as libpq does.
    static func parse(url text: String, source: Source, environment env: [String: String]) throws -> ConnectionSettings {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw ConnectionSettingsError(description: "\(source.rawValue) is not a postgres:// URL")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let user = nonEmpty(url.user?.removingPercentEncoding) ?? nonEmpty(query["user"]) ?? nonEmpty(env["PGUSER"]) ?? nonEmpty(env["USER"]) ?? "postgres"
        let password = nonEmpty(url.password?.removingPercentEncoding) ?? nonEmpty(query["password"]) ?? nonEmpty(env["PGPASSWORD"])
        let port = try url.port ?? parsePort(nonEmpty(query["port"]) ?? nonEmpty(env["PGPORT"]) ?? "5432", what: "port in \(source.rawValue)")
        let host = nonEmpty(url.host?.removingPercentEncoding) ?? nonEmpty(query["host"]) ?? nonEmpty(env["PGHOST"]) ?? "localhost"
        var database = url.path
        if database.hasPrefix("/") { database.removeFirst() }
        let tls = try parseTLS(nonEmpty(query["sslmode"]) ?? nonEmpty(env["PGSSLMODE"]), what: "sslmode in \(source.rawValue)")
        return ConnectionSettings(
            endpoint: endpoint(host: host, port: port),
            user: user, password: password,
            database: nonEmpty(database.removingPercentEncoding) ?? nonEmpty(env["PGDATABASE"]) ?? user,
            tls: tls, source: source)
    }

    /// A host starting with `/` is a directory holding the server's socket, as in libpq.
    static func endpoint(host: String, port: Int) -> Endpoint {
        host.hasPrefix("/") ? .unixSocket(path: "\(host)/.s.PGSQL.\(port)") : .tcp(host: host, port: port)
    }

    static func parsePort(_ text: String, what: String) throws -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw ConnectionSettingsError(description: "\(what): '\(text)' is not a port number")
        }
        return port
    }

    static func parseTLS(_ text: String?, what: String) throws -> TLSMode {
        guard let text else { return .prefer }
        guard let mode = TLSMode(rawValue: text) else {
            throw ConnectionSettingsError(description: "\(what): '\(text)' is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
