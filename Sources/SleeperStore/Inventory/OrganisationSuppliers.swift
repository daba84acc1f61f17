import Foundation
import PostgresNIO
import SleeperCore

/// The suppliers the organisation declares as its own or allowed (`sleeper suppliers`,
/// `/v1/suppliers`): a model whose supplier is one of them is not scored as an unapproved third
/// party. Each change is audited and owes a rescore of the models with that supplier and what
/// they reach.
public struct OrganisationSuppliers: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public enum Relation: String, Sendable, CaseIterable {
        /// The organisation's own name (its ML platform, its subsidiaries): first party.
        case own
        /// A third party the organisation has approved.
        case allowed
    }

    public struct Supplier: Sendable, Equatable {
        public var name: String
        public var relation: Relation
        public var by: String
        public var reason: String
        public var at: Date
    }

    public func list() async throws -> [Supplier] {
        var out: [Supplier] = []
        for try await (name, relation, by, reason, at) in try await db.client.query(
            "SELECT name, relation, declared_by, reason, declared_at FROM organisation_suppliers ORDER BY lower(name)", logger: db.logger
        )
        .decode((String, String, String, String, Date).self) {
            out.append(Supplier(name: name, relation: try rowValue(Relation.self, relation), by: by, reason: reason, at: at))
        }
        return out
    }

    /// Declares `name` (or changes its relation); the models it supplies are rescored.
    public func declare(_ name: String, _ relation: Relation, by: String, reason: String, actor: String, now: Date = SleeperClock.now()) async throws -> ScoredChanges.Rescore? {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else { throw StoreError.invalidInput("supplier: a name of 1 to 200 characters") }
        try FreeText.require(name, "supplier", max: 200)
        try FreeText.require(by, "--by", max: FreeText.name)
        try FreeText.require(reason, "--reason", max: FreeText.reason)
        return try await change("suppliers: \(relation.rawValue) \(name)", name: name, actor: actor, now: now) { tx in
            try await tx.query(
                """
                INSERT INTO organisation_suppliers AS s (name, relation, declared_by, reason, declared_at)
                VALUES (\(name), \(relation.rawValue), \(by), \(reason), \(now))
                ON CONFLICT (lower(name)) DO UPDATE SET name = excluded.name, relation = excluded.relation, declared_by = excluded.declared_by,
                    reason = excluded.reason, declared_at = excluded.declared_at
                """, logger: db.logger)
            try await AuditLog.record(
                actor: actor, action: "suppliers.declare", target: name,
                detail: ["relation": relation.rawValue, "by": by, "reason": reason], on: tx, logger: db.logger)
        }
    }

    /// Withdraws a declaration; the models it supplied are rescored as third parties again.
    public func withdraw(_ name: String, by: String, reason: String, actor: String, now: Date = SleeperClock.now()) async throws -> ScoredChanges.Rescore? {
        try FreeText.require(by, "--by", max: FreeText.name)
        try FreeText.require(reason, "--reason", max: FreeText.reason)
        return try await change("suppliers: withdraw \(name)", name: name, actor: actor, now: now) { tx in
            let gone = try await tx.query("DELETE FROM organisation_suppliers WHERE lower(name) = lower(\(name)) RETURNING name", logger: db.logger)
                .decode(String.self).first { _ in true }
            guard gone != nil else { throw StoreError.notFound("no supplier '\(name)' is declared (sleeper suppliers lists them)") }
            try await AuditLog.record(actor: actor, action: "suppliers.withdraw", target: name, detail: ["by": by, "reason": reason], on: tx, logger: db.logger)
        }
    }

    /// Runs `write` and owes, on its transaction, a rescore of the models `name` supplies.
    private func change(
        _ trigger: String, name: String, actor: String, now: Date,
        _ write: @escaping @Sendable (PostgresConnection) async throws -> Void
    ) async throws -> ScoredChanges.Rescore? {
        let changes = ScoredChanges(db)
        let debt = try await db.transaction { tx -> Int64? in
            try await write(tx)
            var models: [Subject] = []
            for try await key in try await tx.query("SELECT key FROM models WHERE lower(supplier) = lower(\(name)) ORDER BY key", logger: db.logger).decode(String.self) {
                models.append(Subject(kind: .model, key: key))
            }
            guard !models.isEmpty else { return nil }
            return try await changes.owe(OwedRescore(trigger: trigger, actor: actor, asOf: now, subjects: models), on: tx)
        }
        guard let debt else { return nil }
        return await changes.settling(debt, actor: actor)
    }
}
