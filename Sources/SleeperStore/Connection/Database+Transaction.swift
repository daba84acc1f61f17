import PostgresNIO

extension Database {
    /// Runs `body` in a transaction on one connection: COMMIT when it returns, ROLLBACK when it
    /// throws, and the error is rethrown as it was (postgres-nio's own helper wraps it).
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}
