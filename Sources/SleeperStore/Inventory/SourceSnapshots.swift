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

    /// The source's row, created on its first snapshot: its id, and how many entities it listed
    /// before this snapshot. A snapshot in another format than the source's first is refused: it
    /// lists none of what the source brought, and would remove all of it.
    func open(_ origin: SourceOrigin, files: [String], now: Date, on c: PostgresConnection) async throws -> (id: Int64, listed: Int) {
        for try await format in try await c.query("SELECT format FROM sources WHERE name = \(origin.name)", logger: db.logger)
            .decode(String.self) where format != origin.format.rawValue
        {
            throw StoreError.invalidInput(
                "\(files.joined(separator: ", ")): source \(origin.name) was first imported as \(format), and these files are "
                    + "\(origin.format.rawValue): a snapshot in another format lists nothing the source brought and would remove all of it; "
                    + "nothing was written. Name this one with --source")
        }
        var id: Int64 = 0
        for try await value in try await c.query(
            """
            INSERT INTO sources (name, format, first_imported_at, last_imported_at, last_file)
            VALUES (\(origin.name), \(origin.format.rawValue), \(now), \(now), \(files.joined(separator: ", ")))
            ON CONFLICT (name) DO UPDATE SET format = excluded.format, last_imported_at = excluded.last_imported_at,
                last_file = excluded.last_file, imports = sources.imports + 1
            RETURNING id
            """, logger: db.logger
        ).decode(Int64.self) { id = value }
        var listed = 0
        for try await n in try await c.query(
            PostgresQuery(
                unsafeSQL: "SELECT (SELECT count(*) FROM entity_sources WHERE source_id = \(id))::int + "
                    + EntityTable.all.map { "(SELECT count(*) FROM \($0.table) WHERE source_id = \(id))::int" }.joined(separator: " + ")), logger: db.logger
        )
        .decode(Int.self) { listed = n }
        return (id, listed)
    }

    /// The keys the snapshot only names (`stage_named`), and the claim of those that have no
    /// source yet.
    func stageNamed(_ stubs: Inventory, source: Int64, on c: PostgresConnection) async throws {
        let logger = db.logger
        try await c.query("DROP TABLE IF EXISTS stage_named", logger: logger)
        try await c.query("CREATE TEMP TABLE stage_named (kind text, key text) ON COMMIT DROP", logger: logger)
        for (kind, keys) in Self.keys(stubs) where !keys.isEmpty {
            try await c.query("INSERT INTO stage_named SELECT \(kind), unnest(\(keys)::text[])", logger: logger)
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE \(kind) SET source_id = \(source) WHERE source_id IS NULL AND key IN (SELECT key FROM stage_named WHERE kind = '\(kind)')
                        """), logger: logger)
        }
    }

    /// After the snapshot's entities are written: links it to what it lists whose first source
    /// is another, and settles what it no longer lists — handed to another source that lists
    /// it, kept when a hand-written file described it, otherwise removed (and kept in
    /// `removed_entities`).
    /// `listed`: how many entities the source listed before; `removals`: how many of them it may remove.
    func reconcile(
        _ origin: SourceOrigin, source id: Int64, listed before: Int, removals: RemovalGuard, group: ImportGroup, now: Date,
        on c: PostgresConnection
    ) async throws -> ImportSummary.SourceSnapshot {
        let logger = db.logger
        var removed: [String] = [], kept = 0
        for table in EntityTable.all {
            let kind = table.table
            // Every key the snapshot lists, described or named, in one analysed table: a single
            // EXISTS on it plans as a hash join, where an OR of two planned as a lookup per row.
            try await c.query("DROP TABLE IF EXISTS listed_keys", logger: logger)
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TEMP TABLE listed_keys ON COMMIT DROP AS
                        SELECT key FROM stage_\(kind) UNION ALL SELECT key FROM stage_named WHERE kind = '\(kind)'
                        """), logger: logger)
            try await c.query("ANALYZE listed_keys", logger: logger)
            let listed = "EXISTS (SELECT 1 FROM listed_keys l WHERE l.key = t.key)"
            // Listed here, but first listed by another source: a link of its own.
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO entity_sources (source_id, kind, entity_id, seen_at)
                        SELECT \(id), '\(kind)', t.id, $1 FROM \(kind) t
                        WHERE t.source_id <> \(id) AND \(listed)
                          AND NOT EXISTS (SELECT 1 FROM entity_sources e WHERE e.source_id = \(id) AND e.kind = '\(kind)' AND e.entity_id = t.id)
                        """, binds: try Self.binds(now)), logger: logger)
            // Links of its own to what it no longer lists: dropped; the entity's first source stands.
            for try await n in try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH unlinked AS (
                            DELETE FROM entity_sources e USING \(kind) t
                            WHERE e.source_id = \(id) AND e.kind = '\(kind)' AND t.id = e.entity_id AND NOT \(listed)
                            RETURNING 1
                        )
                        SELECT count(*)::int FROM unlinked
                        """), logger: logger
            ).decode(Int.self) { kept += n }
            // What it first listed and lists no more.
            try await c.query("DROP TABLE IF EXISTS dropped", logger: logger)
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TEMP TABLE dropped ON COMMIT DROP AS SELECT t.id FROM \(kind) t WHERE t.source_id = \(id) AND NOT \(listed)
                        """), logger: logger)
            var dropped = 0
            for try await n in try await c.query("SELECT count(*)::int FROM dropped", logger: logger).decode(Int.self) { dropped = n }
            guard dropped > 0 else { continue }
            // Handed to another source that lists it (the lowest id), whose link becomes the first.
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TEMP TABLE handed ON COMMIT DROP AS
                        SELECT DISTINCT ON (e.entity_id) e.entity_id, e.source_id FROM entity_sources e JOIN dropped d ON d.id = e.entity_id
                        WHERE e.kind = '\(kind)' ORDER BY e.entity_id, e.source_id
                        """), logger: logger)
            try await c.query(PostgresQuery(unsafeSQL: "UPDATE \(kind) t SET source_id = h.source_id FROM handed h WHERE t.id = h.entity_id"), logger: logger)
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        DELETE FROM entity_sources e USING handed h WHERE e.kind = '\(kind)' AND e.entity_id = h.entity_id AND e.source_id = h.source_id
                        """), logger: logger)
            try await c.query("DROP TABLE handed", logger: logger)
            // Described by hand: kept, with no source.
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE \(kind) t SET source_id = NULL FROM dropped d WHERE t.id = d.id AND t.source_id = \(id) AND t.hand_written
                        """), logger: logger)
            // Nothing else speaks for the rest: removed.
            var gone: [String] = []
            for try await key in try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH gone AS (
                            DELETE FROM \(kind) t USING dropped d WHERE t.id = d.id AND t.source_id = \(id)
                            RETURNING t.*
                        ), recorded AS (
                            INSERT INTO removed_entities (source_id, kind, key, removed_at, entity)
                            SELECT \(id), '\(kind)', g.key, $1, to_jsonb(g) - 'id' - 'source_id' FROM gone g
                            RETURNING key
                        )
                        SELECT key FROM recorded ORDER BY key
                        """, binds: try Self.binds(now)), logger: logger
            ).decode(String.self) { gone.append(key) }
            removed += gone.map { "\(EntityKind(rawValue: kind)?.singular ?? kind):\($0)" }
            kept += dropped - gone.count
        }
        if let refusal = removals.refusal(source: origin.name, files: group.files, removing: removed, listed: before) {
            throw StoreError.invalidInput(refusal)
        }
        let listed = group.inventory.entityCount + origin.stubs.entityCount
        return ImportSummary.SourceSnapshot(name: origin.name, format: origin.format.rawValue, entities: listed, removed: removed, kept: kept)
    }

    static func keys(_ inventory: Inventory) -> [(String, [String])] {
        [
            ("models", inventory.models.map(\.key)), ("datasets", inventory.datasets.map(\.key)), ("agents", inventory.agents.map(\.key)),
            ("credentials", inventory.credentials.map(\.key)), ("resources", inventory.resources.map(\.key)),
        ]
    }

    /// Every source, with how many entities it speaks for now and how many it has removed.
    public func list() async throws -> [Source] {
        var out: [Source] = []
        for try await (name, format, first, last, file, imports, entities, removed) in try await db.client.query(
            """
            SELECT s.name, s.format, s.first_imported_at, s.last_imported_at, s.last_file, s.imports,
                   (SELECT count(*)::int FROM entity_sources e WHERE e.source_id = s.id)
                   + (SELECT count(*)::int FROM models x WHERE x.source_id = s.id) + (SELECT count(*)::int FROM datasets x WHERE x.source_id = s.id)
                   + (SELECT count(*)::int FROM agents x WHERE x.source_id = s.id) + (SELECT count(*)::int FROM credentials x WHERE x.source_id = s.id)
                   + (SELECT count(*)::int FROM resources x WHERE x.source_id = s.id),
                   (SELECT count(*)::int FROM removed_entities r WHERE r.source_id = s.id)
            FROM sources s ORDER BY s.name
            """, logger: db.logger
        ).decode((String, String, Date, Date, String, Int, Int, Int).self) {
            out.append(
                Source(
                    name: name, format: format, firstImportedAt: first, lastImportedAt: last, lastFile: file, imports: imports,
                    entities: entities, removed: removed))
        }
        return out
    }

    static func binds(_ now: Date) throws -> PostgresBindings {
        var b = PostgresBindings()
        b.append(now)
        return b
    }
}
