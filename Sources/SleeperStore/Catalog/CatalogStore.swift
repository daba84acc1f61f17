import Crypto
import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// Loads catalogs into the database and reads them back. Loading is idempotent and updates in
/// place: rows are upserted, and rows the files no longer hold are removed, in one transaction.
public struct CatalogStore: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// The catalog files shipped in this binary (Controls/*.yaml).
    public static var bundledFiles: [(name: String, data: Data)] { BundledFiles.files(in: "Controls") }

    public static func bundledCatalog() throws -> Catalog {
        try CatalogReader.read(files: bundledFiles).get()
    }

    public struct SyncResult: Sendable {
        public var changed: Bool
        public var frameworks: Int
        public var items: Int
        public var controls: Int
        public var mappings: Int
    }

    /// Syncs the shipped catalog unless the database already holds exactly these files.
    @discardableResult
    public func syncBundled(force: Bool = false) async throws -> SyncResult {
        try await sync(files: Self.bundledFiles, force: force)
    }

    /// Syncs catalog files (Controls/ as shipped, or edited copies in tests) after validating them all.
    @discardableResult
    public func sync(files: [(name: String, data: Data)], force: Bool = false) async throws -> SyncResult {
        let digest = SHA256.hash(data: files.reduce(into: Data()) { $0 += Data($1.name.utf8) + $1.data })
            .hexEncoded
        let catalog = try CatalogReader.read(files: files).get()
        var result = SyncResult(
            changed: true, frameworks: catalog.frameworks.count,
            items: catalog.frameworks.reduce(0) { $0 + $1.items.count },
            controls: catalog.controls.count, mappings: catalog.mappings.count)
        if !force, try await currentDigest() == digest {
            result.changed = false
            return result
        }
        try await db.transaction { tx in
            try await write(catalog, on: tx)
            try await tx.query(
                """
                INSERT INTO catalog_state (sha256) VALUES (\(digest))
                ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, synced_at = now()
                """, logger: db.logger)
        }
        return result
    }

    /// Stores a framework read from a user's file (a complete ATLAS release) beside the shipped ones.
    public func importFramework(_ framework: Framework) async throws {
        try await db.transaction { tx in
            try await upsert(framework, shipped: false, on: tx)
        }
    }

    private func currentDigest() async throws -> String? {
        for try await sha in try await db.client.query("SELECT sha256 FROM catalog_state", logger: db.logger).decode(String.self) {
            return sha
        }
        return nil
    }

    private func write(_ catalog: Catalog, on tx: PostgresConnection) async throws {
        let logger = db.logger
        for framework in catalog.frameworks { try await upsert(framework, shipped: true, on: tx) }
        // Shipped frameworks that are no longer shipped go; imported ones stay.
        try await tx.query("DELETE FROM frameworks WHERE shipped AND NOT (id = ANY(\(catalog.frameworks.map(\.id))))", logger: logger)

        let c = catalog.controls
        try await tx.query(
            """
            INSERT INTO controls AS t (id, name, description, applies_to, evidence, validity_days, grace_days, position)
            SELECT id, name, description, string_to_array(applies, ','), evidence, validity, grace, position
            FROM unnest(\(c.map(\.id)), \(c.map(\.name)), \(c.map(\.description)),
                        \(c.map { $0.appliesTo.map(\.rawValue).joined(separator: ",") }), \(c.map(\.evidence)),
                        \(c.map(\.validityDays)), \(c.map(\.graceDays)), \(Array(0..<c.count)))
                 AS s (id, name, description, applies, evidence, validity, grace, position)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
                applies_to = excluded.applies_to, evidence = excluded.evidence, validity_days = excluded.validity_days,
                grace_days = excluded.grace_days, position = excluded.position
            """, logger: logger)
        try await tx.query("DELETE FROM controls WHERE NOT (id = ANY(\(c.map(\.id))))", logger: logger)

        let m = catalog.mappings
        try await tx.query("DELETE FROM control_mappings", logger: logger)
        try await tx.query(
            """
            INSERT INTO control_mappings (control_id, framework_id, item_id, relationship)
            SELECT * FROM unnest(\(m.map(\.control)), \(m.map(\.framework)), \(m.map(\.item)), \(m.map(\.relationship.rawValue)))
            """, logger: logger)
    }

    private func upsert(_ f: Framework, shipped: Bool, on tx: PostgresConnection) async throws {
        let logger = db.logger
        try await tx.query(
            """
            INSERT INTO frameworks (id, name, edition, source, licence, shipped) VALUES (\(f.id), \(f.name), \(f.edition), \(f.source), \(f.licence), \(shipped))
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, edition = excluded.edition, source = excluded.source,
                licence = excluded.licence, shipped = excluded.shipped, synced_at = now()
            """, logger: logger)
        let items = f.items
        try await tx.query("SET CONSTRAINTS ALL DEFERRED", logger: logger)
        try await tx.query(
            """
            INSERT INTO framework_items AS t (framework_id, id, name, description, kind, parent_id, alias_of, backdoor_relevant, position)
            SELECT \(f.id), id, name, description, kind, nullif(parent, ''), coalesce(string_to_array(nullif(alias, ''), ','), '{}'), relevant, position
            FROM unnest(\(items.map(\.id)), \(items.map(\.name)), \(items.map(\.description)), \(items.map(\.kind)),
                        \(items.map { $0.parent ?? "" }), \(items.map { $0.aliasOf.joined(separator: ",") }),
                        \(items.map(\.backdoorRelevant)), \(Array(0..<items.count)))
                 AS s (id, name, description, kind, parent, alias, relevant, position)
            ON CONFLICT (framework_id, id) DO UPDATE SET name = excluded.name, description = excluded.description,
                kind = excluded.kind, parent_id = excluded.parent_id, alias_of = excluded.alias_of,
                backdoor_relevant = excluded.backdoor_relevant, position = excluded.position
            """, logger: logger)
        try await tx.query("DELETE FROM framework_items WHERE framework_id = \(f.id) AND NOT (id = ANY(\(items.map(\.id))))", logger: logger)
        let links = items.flatMap { item in item.mitigates.map { (item.id, $0) } }
        try await tx.query("DELETE FROM atlas_mitigations WHERE framework_id = \(f.id)", logger: logger)
        try await tx.query(
            """
            INSERT INTO atlas_mitigations (framework_id, mitigation_id, technique_id)
            SELECT \(f.id), m, t FROM unnest(\(links.map(\.0)), \(links.map(\.1))) AS s (m, t)
            """, logger: logger)
    }
}
