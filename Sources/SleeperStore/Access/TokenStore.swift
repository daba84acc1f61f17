import Foundation
import PostgresNIO
import SleeperCore

/// API tokens: created (shown once), listed, revoked, and resolved from a bearer header.
public struct TokenStore: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Token: Sendable {
        public var name: String
        public var role: AccessRole
        public var createdAt: Date
        public var createdBy: String
        public var revokedAt: Date?
    }

    /// Creates a token and returns it in clear, the only time it is seen. Audited.
    public func create(name: String, role: AccessRole, by actor: String) async throws -> String {
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"#, options: .regularExpression) != nil else {
            throw StoreError.invalidInput("name: '\(name)' must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
        let (token, lookup, hash) = APIToken.generate()
        try await db.transaction { tx in
            var taken = false
            for try await _ in try await tx.query("SELECT 1 FROM api_tokens WHERE name = \(name)", logger: db.logger) { taken = true }
            if taken { throw StoreError.invalidInput("name: a token named '\(name)' already exists (names stay taken after revocation)") }
            try await tx.query("""
                INSERT INTO api_tokens (name, role, lookup, token_hash, created_by) VALUES (\(name), \(role.rawValue), \(lookup), \(hash), \(actor))
                """, logger: db.logger)
            try await AuditLog.record(actor: actor, action: "token.create", target: name, detail: ["role": role.rawValue], on: tx, logger: db.logger)
        }
        return token
    }

    public func list() async throws -> [Token] {
        var out: [Token] = []
        for try await (name, role, created, by, revoked) in try await db.client.query(
            "SELECT name, role, created_at, created_by, revoked_at FROM api_tokens ORDER BY name", logger: db.logger
        ).decode((String, String, Date, String, Date?).self) {
            out.append(Token(name: name, role: try rowValue(AccessRole.self, role), createdAt: created, createdBy: by, revokedAt: revoked))
        }
        return out
    }

    /// Revokes a token by name; it stops working at once. Audited.
    public func revoke(name: String, by actor: String) async throws {
        try await db.transaction { tx in
            var found = false
            for try await _ in try await tx.query(
                "UPDATE api_tokens SET revoked_at = now() WHERE name = \(name) AND revoked_at IS NULL RETURNING id", logger: db.logger) { found = true }
            guard found else { throw StoreError.invalidInput("no active token named '\(name)'") }
            try await AuditLog.record(actor: actor, action: "token.revoke", target: name, detail: [:], on: tx, logger: db.logger)
        }
    }

    /// The name and role of an active token, or nil. The hash is compared in constant time.
    public func resolve(_ token: String) async throws -> (name: String, role: AccessRole)? {
        guard let lookup = APIToken.lookup(of: token) else { return nil }
        let presented = APIToken.hash(token)
        for try await (name, role, hash) in try await db.client.query(
            "SELECT name, role, token_hash FROM api_tokens WHERE lookup = \(lookup) AND revoked_at IS NULL", logger: db.logger
        ).decode((String, String, String).self) {
            return APIToken.constantTimeEqual(hash, presented) ? (name, try rowValue(AccessRole.self, role)) : nil
        }
        return nil
    }
}
