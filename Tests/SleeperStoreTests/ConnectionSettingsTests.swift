import Foundation
import SleeperStore
import Testing

@Suite("Connection settings precedence", .timeLimit(.minutes(8)))
struct ConnectionSettingsTests {
    let pgEnvironment = ["PGHOST": "/run/pg", "PGPORT": "5433", "PGUSER": "alice", "PGDATABASE": "inv", "PGPASSWORD": "pw"]

    @Test("--database-url wins over DATABASE_URL and PG* variables")
    func flagWins() throws {
        var env = pgEnvironment
        env["DATABASE_URL"] = "postgres://env@envhost/envdb"
        let s = try #require(try ConnectionSettings.resolve(flag: "postgresql://bob:s%40cret@dbhost:6543/sleeper?sslmode=require", environment: env))
        #expect(s.endpoint == .tcp(host: "dbhost", port: 6543))
        #expect(s.user == "bob")
        #expect(s.password == "s@cret")
        #expect(s.database == "sleeper")
        #expect(s.tls == .require)
        #expect(s.source == .flag)
        #expect(!s.redactedDescription.contains("s@cret"))
    }

    @Test("DATABASE_URL wins over PG* variables, which fill what the URL leaves out")
    func databaseURLThenLibpq() throws {
        var env = pgEnvironment
        env["DATABASE_URL"] = "postgres://envhost/envdb"
        let s = try #require(try ConnectionSettings.resolve(flag: nil, environment: env))
        #expect(s.endpoint == .tcp(host: "envhost", port: 5433))
        #expect(s.user == "alice")
        #expect(s.database == "envdb")
        #expect(s.source == .databaseURL)
    }

    @Test("PG* variables alone; a directory host means a unix socket file")
    func libpqVariables() throws {
        let s = try #require(try ConnectionSettings.resolve(flag: nil, environment: pgEnvironment))
        #expect(s.endpoint == .unixSocket(path: "/run/pg/.s.PGSQL.5433"))
        #expect(s.user == "alice")
        #expect(s.password == "pw")
        #expect(s.database == "inv")
        #expect(s.source == .libpq)
    }

    @Test("a socket directory in the URL's host parameter")
    func socketInURL() throws {
        let s = try #require(try ConnectionSettings.resolve(flag: "postgres:///sleeper?host=/var/run/postgresql", environment: ["USER": "carol"]))
        #expect(s.endpoint == .unixSocket(path: "/var/run/postgresql/.s.PGSQL.5432"))
        #expect(s.user == "carol")
    }

    @Test("nothing configured means the embedded cluster")
    func nothingMeansEmbedded() throws {
        #expect(try ConnectionSettings.resolve(flag: nil, environment: ["HOME": "/home/x", "DATABASE_URL": ""]) == nil)
    }

    @Test("bad values are named")
    func badValues() throws {
        #expect(throws: ConnectionSettingsError.self) { try ConnectionSettings.resolve(flag: "mysql://x", environment: [:]) }
        #expect(throws: ConnectionSettingsError.self) { try ConnectionSettings.resolve(flag: nil, environment: ["PGPORT": "eighty"]) }
        #expect(throws: ConnectionSettingsError.self) { try ConnectionSettings.resolve(flag: "postgres://h/db?sslmode=maybe", environment: [:]) }
    }
}
