import Foundation
import PostgresNIO
import SleeperCore

/// Errors from the store, worded for the person at the terminal.
public enum StoreError: Error, CustomStringConvertible {
    case unreachable(String, reason: String)
    case timedOut(seconds: Double)
    case migration(String)
    case embedded(String)
    case notMigrated(pending: [String])
    case invalidInput(String)
    /// The ledgers do not verify: nothing is reported, exported or signed over them.
    case unverifiedLedger([String])
    /// A filter or reference that names nothing: an error, so that an empty answer is never
    /// mistaken for "no gaps" or "no exposure".
    case notFound(String)
    /// The request contradicts what already stands (a standing recall, a decision already
    /// recorded); the message names what stands.
    case conflict(String)
    /// A path a server may not read (outside every `--scan-root`).
    case pathNotAllowed(String)
    /// A scan stopped before it ended (its deadline passed, or whoever asked went away): what
    /// it had read proves nothing, so nothing was recorded.
    case scanStopped(String)
    /// The connection to PostgreSQL closed in the middle of an operation.
    case connectionLost
    /// The connection was lost before the transaction was committed: nothing was written.
    case lostBeforeCommit(reason: String)
    /// The connection was lost while committing, and the server could not be asked since.
    case commitUnknown(transaction: Int64)
    /// The database went away and the operation did not end in time to say what it did.
    case outcomeUnknown

    /// Whether the message already tells the user that nothing was written (so that the exit
    /// for "run it again" does not say it twice).
    public var saysNothingWritten: Bool {
        switch self {
        case .lostBeforeCommit: return true
        default: return false
        }
    }

    /// Whether `error` is the database refusing a statement (any driver error that is not a lost
    /// connection): reported as a database error, exit 1.
    public static func isDatabaseError(_ error: any Error) -> Bool { error is PSQLError || error is PostgresError }

    public var description: String {
        switch self {
        case .unreachable(let target, let reason):
            return "cannot reach PostgreSQL at \(target): \(reason)"
        case .timedOut(let seconds):
            return "no answer within \(Int(seconds)) seconds"
        case .migration(let message), .embedded(let message), .invalidInput(let message), .notFound(let message), .conflict(let message), .pathNotAllowed(let message):
            return message
        case .scanStopped(let message):
            return "the scan stopped before it ended (\(message)): a partial scan proves nothing, so nothing was recorded"
        case .unverifiedLedger(let problems):
            return "the ledgers do not verify, so nothing was reported, exported or signed:\n  " + problems.joined(separator: "\n  ")
                + "\n(run `sleeper verify` for the full check; --allow-unverified reports anyway, marked, and never signs)"
        case .connectionLost:
            return "the connection to PostgreSQL was lost"
        case .lostBeforeCommit(let reason):
            return "the connection to PostgreSQL was lost\(reason.isEmpty ? "" : " (\(reason))") before the change was committed: nothing was written; run the command again once the database is back"
        case .commitUnknown(let xid):
            return "the connection to PostgreSQL was lost while committing transaction \(xid), and the database has not answered since: "
                + "whether the change was committed is unknown. Once it is back, `sleeper audit` lists the change if it was committed"
        case .outcomeUnknown:
            return "the connection to PostgreSQL was lost and the operation did not end; whether a change was committed is unknown. "
                + "Once the database is back, `sleeper audit` lists the change if it was committed"
        case .notMigrated(let pending):
            return "the database schema is not up to date (pending: \(pending.joined(separator: ", "))); run `sleeper migrate`"
        }
    }

    /// Whether `error` means the connection went away (rather than the statement failing): the
    /// driver's closed-connection errors, and the server's own farewell — class 57 (operator
    /// intervention: shutdown, crash, postmaster exit) and class 08 (connection exception).
    public static func isConnectionLoss(_ error: any Error) -> Bool {
        if case .connectionLost? = error as? StoreError { return true }
        // The pool's own verdict after failing to connect for a while (its module is underscored,
        // so it is told by name): the server is away, not the statement wrong.
        if String(describing: type(of: error)) == "ConnectionPoolError" { return true }
        if let psql = error as? PSQLError {
            // FATAL: the server ends the session whatever the code (after the connection was made,
            // which is where this is asked; a refused login is caught by the preflight first).
            if psql.serverInfo?[.severity] == "FATAL" { return true }
            if let state = psql.serverInfo?[.sqlState] { return state.hasPrefix("57") || state.hasPrefix("08") }
            if [.serverClosedConnection, .connectionError, .uncleanShutdown].contains(psql.code) { return true }
            // An error that carries the server's farewell beneath it (no server info of its own):
            // told by what it wraps, below, not answered "no" here.
            if let underlying = psql.underlying, isConnectionLoss(underlying) { return true }
        }
        if let old = error as? PostgresError, case .connectionClosed = old { return true }
        // The server's own words, however the error reached us: once a FATAL 57P01 ("terminating
        // connection due to unexpected postmaster exit") was not told by the checks above and a
        // command exited 1 instead of 75.
        let said = describe(error)
        return said.contains("[SQLSTATE 57") || said.contains("[SQLSTATE 08")
    }

    /// postgres-nio hides details from `description` so they are not logged by accident; the
    /// server's message and the socket error are safe to show and are what a user needs.
    public static func describe(_ error: any Error) -> String {
        if let store = error as? StoreError { return store.description }
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] {
                // The server's message without its DETAIL: for a violated constraint that is the
                // failing row ("Failing row contains (…)"), values and all.
                let state = psql.serverInfo?[.sqlState].map { " [SQLSTATE \($0)]" } ?? ""
                return SecretScanner.redacted(message) + state
            }
            if let underlying = psql.underlying { return describe(underlying) }
            switch psql.code {
            case .connectionError: return "connection failed"
            case .serverClosedConnection: return "the server closed the connection"
            default: return "\(psql.code)"
            }
        }
        let text = String(describing: error)
        if text.contains("connection refused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("No such file or directory") { return "no server socket there (is the server running?)" }
        return text
    }
}
