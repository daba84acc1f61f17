import Foundation
import PostgresNIO
import SleeperCore

/// The signers a model's signature must come from (`trusted_signers`): declared per model or per
/// supplier, audited. A valid signature by anyone else proves only that someone signed.
public struct TrustedSigners: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Declared: Sendable, Equatable {
        public var model: String?
        public var supplier: String?
        public var signer: String
        public var by: String
        public var at: Date
    }

    /// What a hand-written file declared for one model: its signers now (empty: none).
    public struct FromInventory: Sendable, Equatable {
        public var model: String
        public var signers: [String]
    }

    /// The signers hand-written files state (`signers:` on a model) replace those the files
    /// declared before (`declared_by` `inventory …`); declarations made with `sleeper signers
    /// trust` or the API stay. A model whose entry does not say keeps what it had. Only models
    /// whose file-declared signers changed are returned (the import's audit entry lists them).
    static func declare(fromInventory files: [ParsedInventory], on connection: PostgresConnection, logger: Logger) async throws -> [FromInventory] {
        var stated: [String: (signers: [String], file: String)] = [:]
        for file in files where file.source == nil {
            for m in file.inventory.models { if let s = m.signers { stated[m.key] = (s, file.file) } }
        }
        guard !stated.isEmpty else { return [] }
        let keys = stated.keys.sorted()
        var before: [String: [String]] = [:]
        for try await (model, signer) in try await connection.query(
            """
            SELECT model_key, signer FROM trusted_signers WHERE model_key = ANY(\(keys)) AND declared_by LIKE 'inventory %' ORDER BY id
            """, logger: logger
        ).decode((String, String).self) { before[model, default: []].append(signer) }
        let changed = keys.filter { Set(before[$0] ?? []) != Set(stated[$0]!.signers) }
        guard !changed.isEmpty else { return [] }
        let rows = changed.flatMap { k in stated[k]!.signers.map { (k, $0, "inventory " + String(stated[k]!.file.suffix(180))) } }
        try await connection.query("DELETE FROM trusted_signers WHERE model_key = ANY(\(changed)) AND declared_by LIKE 'inventory %'", logger: logger)
        try await connection.query(
            """
            INSERT INTO trusted_signers (model_key, signer, declared_by)
            SELECT * FROM unnest(\(rows.map(\.0))::text[], \(rows.map(\.1))::text[], \(rows.map(\.2))::text[])
            ON CONFLICT DO NOTHING
            """, logger: logger)
        return changed.map { FromInventory(model: $0, signers: stated[$0]!.signers) }
    }

    /// Declares `signer` trusted for `model` or for `supplier`'s models (one of the two), audited.
    public func trust(model: String? = nil, supplier: String? = nil, signer: String, by: String, actor: String) async throws {
        guard (model == nil) != (supplier == nil) else { throw StoreError.invalidInput("give a model or a supplier, not both") }
        try FreeText.require(signer, "signer", max: 1000)
        if let problem = SignerName.problem(signer) { throw StoreError.invalidInput("signer '\(signer)' \(problem.hasPrefix("'key") ? "is wrong: " + problem : problem)") }
        try FreeText.require(by, "by", max: FreeText.name)
        if let model { try await ReferenceLookup(db).requireSubject(Subject(kind: .model, key: model)) }
        try await db.transaction { tx in
            try await tx.query(
                """
                INSERT INTO trusted_signers (model_key, supplier, signer, declared_by) VALUES (\(model), \(supplier), \(signer), \(by))
                ON CONFLICT DO NOTHING
                """, logger: db.logger)
            try await AuditLog.record(
                actor: actor, action: "signer.trust", target: model.map { "model:\($0)" } ?? "supplier:\(supplier!)",
                detail: ["signer": signer, "by": by], on: tx, logger: db.logger)
        }
    }

    /// The signers trusted for a model: its own, and its supplier's.
    public func expected(for model: String) async throws -> [String] {
        var out: [String] = []
        for try await s in try await db.client.query(
            """
            SELECT DISTINCT s.signer FROM trusted_signers s
            LEFT JOIN models m ON m.key = \(model)
            WHERE s.model_key = \(model) OR (s.supplier IS NOT NULL AND s.supplier = m.supplier)
            ORDER BY 1
            """, logger: db.logger
        ).decode(String.self) { out.append(s) }
        return out
    }

    public func all() async throws -> [Declared] {
        var out: [Declared] = []
        for try await (model, supplier, signer, by, at) in try await db.client.query(
            "SELECT model_key, supplier, signer, declared_by, declared_at FROM trusted_signers ORDER BY id", logger: db.logger
        ).decode((String?, String?, String, String, Date).self) {
            out.append(Declared(model: model, supplier: supplier, signer: signer, by: by, at: at))
        }
        return out
    }
}
