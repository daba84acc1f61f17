import Foundation
import PostgresNIO

extension Database {
    /// Runs `body` in a transaction on one connection: COMMIT when it returns, ROLLBACK when it
    /// throws, and the error is rethrown as it was (postgres-nio's own helper wraps it).
    ///
    /// A connection lost on the way says what became of the change: lost before COMMIT was sent,
    /// nothing was written (`lostBeforeCommit`); lost while committing, the transaction's id is
    /// looked up on a new connection (`txid_status`), and a change that did commit is returned as
    /// done, with a warning in the log; one that cannot be checked is `commitUnknown`.
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            var xid: Int64 = 0
            for try await id in try await connection.query("SELECT txid_current()", logger: logger).decode(Int64.self) { xid = id }
            let result: T
            do {
                result = try await body(connection)
            } catch {
                if connection.isClosed || StoreError.isConnectionLoss(error) {
                    throw StoreError.lostBeforeCommit(reason: error is StoreError ? "" : StoreError.describe(error))
                }
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            // A write made for a request with an Idempotency-Key says so on the key, in the same commit.
            if IdempotencyKeys.current != nil {
                do { try await IdempotencyKeys.markCommitted(xid: xid, on: connection, logger: logger) } catch {
                    if connection.isClosed || StoreError.isConnectionLoss(error) { throw StoreError.lostBeforeCommit(reason: StoreError.describe(error)) }
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
            do {
                try await connection.query("COMMIT", logger: logger)
            } catch  where connection.isClosed || StoreError.isConnectionLoss(error) {
                switch await commitStatus(xid) {
                case "committed":
                    logger.warning("the connection was lost while committing transaction \(xid); it was committed")
                    return result
                case "aborted":
                    throw StoreError.lostBeforeCommit(reason: StoreError.describe(error))
                default:
                    throw StoreError.commitUnknown(transaction: xid)
                }
            }
            return result
        }
    }

    /// What PostgreSQL says of a transaction id (`committed`, `aborted`, `in progress`), asked on
    /// a new connection for up to `seconds`; nil when the server does not answer in that time.
    func commitStatus(_ xid: Int64, seconds: Double = 5) async -> String? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let status = try? await Database.withOneConnection(
                settings, logger: logger, timeout: 2,
                { connection in
                    var status: String?
                    for try await s in try await connection.query("SELECT txid_status(\(xid))", logger: connection.logger).decode(String?.self) { status = s }
                    return status
                }), status != "in progress"
            {
                return status
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }
}
