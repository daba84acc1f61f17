import Foundation
import PostgresNIO
import SleeperCore

/// The sources an estate is read from, and what each one brought. Importing a source's snapshot
/// links every entity it lists to it; an entity it listed before and lists no longer loses the
/// link, and is removed (kept in `removed_entities`) when no other source links it and no
/// hand-written file described it.
public struct SourceSnapshots: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Source: Sendable {
        public var name: String, format: String, firstImportedAt: Date, lastImportedAt: Date, lastFile: String, imports: Int
        public var entities: Int, removed: Int
    }

    func record(_ origin: SourceOrigin, group: ImportGroup, now: Date, on c: PostgresConnection) async throws -> ImportSummary.SourceSnapshot {
        let logger = db.logger
        var id: Int64 = 0
        for try await value in try await c.query("""
            INSERT INTO sources (name, format, first_imported_at, last_imported_at, last_file)
            VALUES (\(origin.name), \(origin.format.rawValue), \(now), \(now), \(group.files.joined(separator: ", ")))
            ON CONFLICT (name) DO UPDATE SET format = excluded.format, last_imported_at = excluded.last_imported_at,
                last_file = excluded.last_file, imports = sources.imports + 1
            RETURNING id
            """, logger: logger).decode(Int64.self) { id = value }
        try await c.query("DROP TABLE IF EXISTS stage_stub_keys", logger: logger)
        try await c.query("CREATE TEMP TABLE stage_stub_keys (kind text, key text) ON COMMIT DROP", logger: logger)
        let stubs = origin.stubs
        let stubKeys: [(String, [String])] = [("models", stubs.models.map(\.key)), ("datasets", stubs.datasets.map(\.key)),
                                              ("agents", stubs.agents.map(\.key)), ("credentials", stubs.credentials.map(\.key)),
                                              ("resources", stubs.resources.map(\.key))]
        for (kind, keys) in stubKeys where !keys.isEmpty {
            try await c.query("INSERT INTO stage_stub_keys SELECT \(kind), unnest(\(keys)::text[])", logger: logger)
        }
        var removed: [String] = [], kept = 0
        let listed = group.inventory.entityCount + stubs.entityCount
        for table in EntityTable.all {
            let kind = table.table
            // The ids of what the snapshot lists (described or only named), analysed: the planner
            // knows nothing of a new temporary table and would join a million links to it row by row.
            try await c.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS listed_ids"), logger: logger)
            try await c.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE listed_ids ON COMMIT DROP AS
                SELECT t.id FROM \(kind) t JOIN stage_\(kind) s ON s.key = t.key
                UNION ALL
                SELECT t.id FROM \(kind) t JOIN stage_stub_keys k ON k.kind = '\(kind)' AND k.key = t.key
                """), logger: logger)
            try await c.query(PostgresQuery(unsafeSQL: "ANALYZE listed_ids"), logger: logger)
            PhaseTiming.report("snapshot \(kind): listed")
            // Link what was not linked yet: a re-import of a million unchanged keys writes nothing here.
            // (Imports write one at a time, so an anti-join is safe and cheaper than ON CONFLICT.)
            try await c.query(PostgresQuery(unsafeSQL: """
                INSERT INTO entity_sources (source_id, kind, entity_id, seen_at) SELECT $1, '\(kind)', id, $2 FROM listed_ids l
                WHERE NOT EXISTS (SELECT 1 FROM entity_sources e WHERE e.source_id = $1 AND e.kind = '\(kind)' AND e.entity_id = l.id)
                """, binds: try Self.binds(id, now)), logger: logger)
            PhaseTiming.report("snapshot \(kind): linked")
            // Unlink what it no longer lists; remove what nothing else speaks for.
            var dropped: [Int64] = []
            for try await entity in try await c.query(PostgresQuery(unsafeSQL: """
                DELETE FROM entity_sources es WHERE es.source_id = $1 AND es.kind = '\(kind)'
                  AND NOT EXISTS (SELECT 1 FROM listed_ids l WHERE l.id = es.entity_id)
                RETURNING es.entity_id
                """, binds: try Self.binds(id)), logger: logger).decode(Int64.self) { dropped.append(entity) }
            PhaseTiming.report("snapshot \(kind): \(dropped.count) unlinked")
            guard !dropped.isEmpty else { continue }
            var gone: [String] = []
            var binds = try Self.binds(id, now)
            binds.append(dropped)
            for try await key in try await c.query(PostgresQuery(unsafeSQL: """
                WITH gone AS (
                    DELETE FROM \(kind) t
                    WHERE t.id IN (SELECT unnest($3::int8[])) AND NOT t.hand_written
                      AND NOT EXISTS (SELECT 1 FROM entity_sources es WHERE es.kind = '\(kind)' AND es.entity_id = t.id)
                    RETURNING t.*
                ), kept AS (
                    INSERT INTO removed_entities (source_id, kind, key, removed_at, entity)
                    SELECT $1, '\(kind)', g.key, $2, to_jsonb(g) - 'id' FROM gone g
                    RETURNING key
                )
                SELECT key FROM kept ORDER BY key
                """, binds: binds), logger: logger).decode(String.self) { gone.append(key) }
            removed += gone.map { "\(EntityKind(rawValue: kind)?.singular ?? kind):\($0)" }
            kept += dropped.count - gone.count
        }
        return ImportSummary.SourceSnapshot(name: origin.name, format: origin.format.rawValue, entities: listed, removed: removed, kept: kept)
    }

    /// Every source, with how many entities it speaks for now and how many it has removed.
    public func list() async throws -> [Source] {
        var out: [Source] = []
        for try await (name, format, first, last, file, imports, entities, removed) in try await db.client.query("""
            SELECT s.name, s.format, s.first_imported_at, s.last_imported_at, s.last_file, s.imports,
                   (SELECT count(*)::int FROM entity_sources e WHERE e.source_id = s.id),
                   (SELECT count(*)::int FROM removed_entities r WHERE r.source_id = s.id)
            FROM sources s ORDER BY s.name
            """, logger: db.logger).decode((String, String, Date, Date, String, Int, Int, Int).self) {
            out.append(Source(name: name, format: format, firstImportedAt: first, lastImportedAt: last, lastFile: file, imports: imports,
                              entities: entities, removed: removed))
        }
        return out
    }

    static func binds(_ id: Int64, _ now: Date? = nil) throws -> PostgresBindings {
        var b = PostgresBindings()
        b.append(id)
        if let now { b.append(now) }
        return b
    }
}
