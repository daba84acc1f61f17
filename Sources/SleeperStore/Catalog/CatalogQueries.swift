import Foundation
import PostgresNIO
import SleeperCore

/// Questions about the stored catalogs, answered in SQL.
public struct CatalogQueries: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct FrameworkSummary: Sendable {
        public var id: String, name: String, edition: String, licence: String
        public var items: Int, mappedItems: Int, shipped: Bool
    }

    public func frameworks() async throws -> [FrameworkSummary] {
        var out: [FrameworkSummary] = []
        let sql: PostgresQuery = """
            SELECT f.id, f.name, f.edition, f.licence, f.shipped,
                   (SELECT count(*) FROM framework_items i WHERE i.framework_id = f.id),
                   (SELECT count(DISTINCT m.item_id) FROM control_mappings m WHERE m.framework_id = f.id)
            FROM frameworks f ORDER BY f.shipped DESC, f.id
            """
        for try await (id, name, edition, licence, shipped, items, mapped) in try await db.client.query(sql, logger: db.logger)
            .decode((String, String, String, String, Bool, Int, Int).self)
        {
            out.append(FrameworkSummary(id: id, name: name, edition: edition, licence: licence, items: items, mappedItems: mapped, shipped: shipped))
        }
        return out
    }

    public func controls() async throws -> [Control] {
        var out: [Control] = []
        for try await (id, name, description, applies, evidence, validity, grace) in try await db.client.query(
            """
            SELECT id, name, description, applies_to, evidence, validity_days, grace_days FROM controls ORDER BY position
            """, logger: db.logger
        ).decode((String, String, String, [String], String, Int32, Int32).self) {
            out.append(
                Control(
                    id: id, name: name, description: description, appliesTo: applies.compactMap(SubjectKind.init(rawValue:)),
                    evidence: evidence, validityDays: Int(validity), graceDays: Int(grace)))
        }
        return out
    }

    public func items(framework: String) async throws -> [FrameworkItem]? {
        let exists =
            try await db.client.query("SELECT count(*) FROM frameworks WHERE id = \(framework)", logger: db.logger)
            .decode(Int.self).first { _ in true } ?? 0
        guard exists > 0 else { return nil }
        var out: [FrameworkItem] = []
        for try await (id, name, description, kind, parent, alias, relevant, mitigates) in try await db.client.query(
            """
            SELECT i.id, i.name, i.description, i.kind, i.parent_id, i.alias_of, i.backdoor_relevant,
                   coalesce((SELECT array_agg(a.technique_id ORDER BY a.technique_id) FROM atlas_mitigations a
                             WHERE a.framework_id = i.framework_id AND a.mitigation_id = i.id), '{}')
            FROM framework_items i WHERE i.framework_id = \(framework) ORDER BY i.position
            """, logger: db.logger
        ).decode((String, String, String, String, String?, [String], Bool, [String]).self) {
            out.append(
                FrameworkItem(
                    id: id, name: name, description: description, kind: kind, parent: parent,
                    aliasOf: alias, mitigates: mitigates, backdoorRelevant: relevant))
        }
        return out
    }

    /// Every mapping, both ways, for `controls show`.
    public func mappings() async throws -> [ControlMapping] {
        var out: [ControlMapping] = []
        for try await (control, framework, item, relationship) in try await db.client.query(
            "SELECT control_id, framework_id, item_id, relationship FROM control_mappings ORDER BY control_id, framework_id, item_id",
            logger: db.logger
        ).decode((String, String, String, MappingRelationship).self) {
            out.append(ControlMapping(control: control, framework: framework, item: item, relationship: relationship))
        }
        return out
    }

    /// Reads the stored catalog back whole (small: a few hundred rows).
    public func catalog() async throws -> Catalog {
        var frameworks: [Framework] = []
        for summary in try await self.frameworks() {
            let items = try await items(framework: summary.id) ?? []
            frameworks.append(Framework(id: summary.id, name: summary.name, edition: summary.edition, source: "", licence: summary.licence, items: items))
        }
        return Catalog(frameworks: frameworks, controls: try await controls(), mappings: try await mappings())
    }
}
