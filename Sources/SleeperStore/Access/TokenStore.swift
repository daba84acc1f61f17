import Foundation
import PostgresNIO
import SleeperCore

/// API tokens: created (shown once), listed, rotated, revoked, and resolved from a bearer header.
/// Every token expires; its last use is recorded; a revocation carries a reason.
public struct TokenStore: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// Lifetimes: 90 days unless asked otherwise, never more than a year.
    public static let defaultLifetimeDays = 90
    public static let maximumLifetimeDays = 366

    public struct Token: Sendable {
        public var name: String
        public var role: AccessRole
        public var createdAt: Date
        public var createdBy: String
        public var expiresAt: Date
        public var lastUsedAt: Date?
        public var rotatedAt: Date?
        public var revokedAt: Date?
        public var revokeReason: String?
    }

    /// Why a presented token was not accepted; the message never repeats the token.
    public enum Refusal: Error, Sendable, Equatable {
        case unknown, revoked, expired(Date)
    }

    static func checkName(_ name: String) throws {
        if let kind = SecretScanner.secretKind(of: name, field: "name") {
            throw StoreError.invalidInput("name: looks like secret material (\(kind)); the value is not shown. Name the holder, not the secret")
        }
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"#, options: .regularExpression) != nil else {
            throw StoreError.invalidInput("name: must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
    }

    /// The expiry for a token made or rotated `now`: `expires` if given (after now, within the maximum lifetime).
    static func expiry(_ expires: Date?, now: Date) throws -> Date {
        guard let expires else { return now.addingTimeInterval(TimeInterval(defaultLifetimeDays) * 86400) }
        guard expires > now else { throw StoreError.invalidInput("expires: \(Timestamps.format(expires)) is not in the future") }
        guard expires <= now.addingTimeInterval(TimeInterval(maximumLifetimeDays) * 86400) else {
            throw StoreError.invalidInput("expires: a token lives at most \(maximumLifetimeDays) days; rotate it instead of making it last")
        }
        return expires
    }

    /// Creates a token and returns it in clear, the only time it is seen. Audited.
    public func create(name: String, role: AccessRole, expires: Date? = nil, by actor: String) async throws -> String {
        try Self.checkName(name)
        let until = try Self.expiry(expires, now: SleeperClock.now())
        let (token, lookup, hash) = APIToken.generate()
        try await db.transaction { tx in
            var taken = false
            for try await _ in try await tx.query("SELECT 1 FROM api_tokens WHERE name = \(name)", logger: db.logger) { taken = true }
            if taken { throw StoreError.invalidInput("name: a token of that name already exists (names stay taken after revocation)") }
            try await tx.query(
                """
                INSERT INTO api_tokens (name, role, lookup, token_hash, created_by, expires_at)
                VALUES (\(name), \(role.rawValue), \(lookup), \(hash), \(actor), \(until))
                """, logger: db.logger)
            try await AuditLog.record(
                actor: actor, action: "token.create", target: name,
                detail: ["role": role.rawValue, "expires": Timestamps.format(until)], on: tx, logger: db.logger)
        }
        return token
    }

    /// A new secret for an active token, same name and role; the old secret stops working at
    /// once. Returns the new token, shown once. Audited.
    public func rotate(name: String, expires: Date? = nil, by actor: String) async throws -> String {
        let until = try Self.expiry(expires, now: SleeperClock.now())
        let (token, lookup, hash) = APIToken.generate()
        try await db.transaction { tx in
            var found = false
            for try await _ in try await tx.query(
                """
                UPDATE api_tokens SET lookup = \(lookup), token_hash = \(hash), rotated_at = now(), expires_at = \(until)
                WHERE name = \(name) AND revoked_at IS NULL RETURNING id
                """, logger: db.logger)
            { found = true }
            guard found else { throw StoreError.invalidInput("no active token named '\(name)'") }
            try await AuditLog.record(
                actor: actor, action: "token.rotate", target: name, detail: ["expires": Timestamps.format(until)],
                on: tx, logger: db.logger)
        }
        return token
    }

    public func list() async throws -> [Token] {
        var out: [Token] = []
        for try await (name, role, created, by, expires, used, rotated, revoked, reason) in try await db.client.query(
            """
            SELECT name, role, created_at, created_by, expires_at, last_used_at, rotated_at, revoked_at, revoke_reason
            FROM api_tokens ORDER BY name
            """, logger: db.logger
        ).decode((String, AccessRole, Date, String, Date, Date?, Date?, Date?, String?).self) {
            out.append(
                Token(
                    name: name, role: role, createdAt: created, createdBy: by, expiresAt: expires, lastUsedAt: used,
                    rotatedAt: rotated, revokedAt: revoked, revokeReason: reason))
        }
        return out
    }

    /// Revokes a token by name, saying why; it stops working at once. Audited.
    public func revoke(name: String, reason: String, by actor: String) async throws {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw StoreError.invalidInput("reason: say why the token is revoked") }
        try FreeText.require(reason, "reason", max: 500)
        try await db.transaction { tx in
            var found = false
            for try await _ in try await tx.query(
                "UPDATE api_tokens SET revoked_at = now(), revoke_reason = \(reason) WHERE name = \(name) AND revoked_at IS NULL RETURNING id",
                logger: db.logger)
            { found = true }
            guard found else { throw StoreError.invalidInput("no active token named '\(name)'") }
            try await AuditLog.record(actor: actor, action: "token.revoke", target: name, detail: ["reason": reason], on: tx, logger: db.logger)
        }
    }

    /// The name and role of an active, unexpired token, or why it was refused. The hash is
    /// compared in constant time; the last-use time is written at most once a minute.
    public func resolve(_ token: String) async throws -> Result<(name: String, role: AccessRole), Refusal> {
        guard let lookup = APIToken.lookup(of: token) else { return .failure(.unknown) }
        let presented = APIToken.hash(token)
        let now = SleeperClock.now()
        for try await (id, name, role, hash, expires, revoked) in try await db.client.query(
            "SELECT id, name, role, token_hash, expires_at, revoked_at FROM api_tokens WHERE lookup = \(lookup)", logger: db.logger
        ).decode((Int, String, AccessRole, String, Date, Date?).self) {
            guard APIToken.constantTimeEqual(hash, presented) else { return .failure(.unknown) }
            if revoked != nil { return .failure(.revoked) }
            if expires <= now { return .failure(.expired(expires)) }
            try await db.client.query(
                """
                UPDATE api_tokens SET last_used_at = now()
                WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
                """, logger: db.logger)
            return .success((name, role))
        }
        return .failure(.unknown)
    }
}
