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

    /// Declares `signer` trusted for `model` or for `supplier`'s models (one of the two), audited.
    public func trust(model: String? = nil, supplier: String? = nil, signer: String, by: String, actor: String) async throws {
        guard (model == nil) != (supplier == nil) else { throw StoreError.invalidInput("give a model or a supplier, not both") }
        try FreeText.require(signer, "signer", max: 1000)
        try FreeText.require(by, "by", max: FreeText.name)
        if let model { try await ReferenceLookup(db).requireSubject(Subject(kind: .model, key: model)) }
        try await db.transaction { tx in
            try await tx.query("""
                INSERT INTO trusted_signers (model_key, supplier, signer, declared_by) VALUES (\(model), \(supplier), \(signer), \(by))
                ON CONFLICT DO NOTHING
                """, logger: db.logger)
            try await AuditLog.record(actor: actor, action: "signer.trust", target: model.map { "model:\($0)" } ?? "supplier:\(supplier!)",
                                      detail: ["signer": signer, "by": by], on: tx, logger: db.logger)
        }
    }

    /// The signers trusted for a model: its own, and its supplier's.
    public func expected(for model: String) async throws -> [String] {
        var out: [String] = []
        for try await s in try await db.client.query("""
            SELECT DISTINCT s.signer FROM trusted_signers s
            LEFT JOIN models m ON m.key = \(model)
            WHERE s.model_key = \(model) OR (s.supplier IS NOT NULL AND s.supplier = m.supplier)
            ORDER BY 1
            """, logger: db.logger).decode(String.self) { out.append(s) }
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
