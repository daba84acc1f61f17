/// The statements of an import, generated from `EntityTable` and `EdgeTable`. Staging tables have
/// no indexes and vanish at commit; the writes into the real tables are one statement per table.
enum InventoryImportSQL {
    /// An import writes one group of files after another (each source, then the hand-written
    /// files), each through fresh staging tables.
    static func createStage(_ e: EntityTable) -> [String] {
        let columns = (["key text"] + e.columns.map { "\($0.name) \($0.stageType)" }).joined(separator: ", ")
        return ["DROP TABLE IF EXISTS stage_\(e.table)", "CREATE TEMP TABLE stage_\(e.table) (\(columns)) ON COMMIT DROP"]
    }

    static func createStage(_ e: EdgeTable) -> [String] {
        ["DROP TABLE IF EXISTS stage_\(e.table)", "CREATE TEMP TABLE stage_\(e.table) (owner_key text, target_key text, attribute text) ON COMMIT DROP"]
    }

    /// Inserts new keys, updates changed rows only, and counts both. `updating` limits the update
    /// to the columns a source provides (nil: every column; empty: never update, for entities a
    /// source only names). `handWritten` marks rows a hand-written file described, which no
    /// source's snapshot removes.
    ///
    /// An UPDATE of the keys that exist and an INSERT of those that do not, rather than
    /// `INSERT … ON CONFLICT`: speculative insertion cost two and a half times as much for a
    /// million new rows. Imports write one at a time (`importLock`), so no other transaction can
    /// insert a key between the two.
    /// `source`: the source whose snapshot this is; it becomes the entity's first source when it
    /// has none.
    static func upsert(_ e: EntityTable, updating: [String]? = nil, handWritten: Bool = true, source: Int64? = nil) -> String {
        let names = e.columns.map(\.name)
        let updated = updating.map { chosen in names.filter { chosen.contains($0) } } ?? names
        let staged = "SELECT key, " + e.columns.map { "\($0.expression) AS \($0.name)" }.joined(separator: ", ") + " FROM stage_\(e.table)"
        var update = "SELECT 1 WHERE false"
        if !updated.isEmpty {
            let set = updated + (handWritten ? ["hand_written"] : []) + (source != nil ? ["source_id"] : [])
            // A source keeps what it observes current (dates, kind, digest); what a person wrote
            // of an entity (its name, owner, supplier) stands over the source's word.
            let values = updated.map { column in
                !handWritten && descriptive.contains(column) ? "CASE WHEN t.hand_written THEN t.\(column) ELSE s.\(column) END" : "s.\(column)"
            } + (handWritten ? ["true"] : []) + (source.map { ["COALESCE(t.source_id, \($0))"] } ?? [])
            update = """
                UPDATE \(e.table) AS t SET (\(set.joined(separator: ", ")), updated_at) = ROW(\(values.joined(separator: ", ")), now())
                    FROM s WHERE t.key = s.key
                      AND (\(set.map { "t.\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(values.joined(separator: ", ")))
                    RETURNING 1
                """
        }
        return """
            WITH s AS MATERIALIZED (\(staged)),
            updated AS (\(update)),
            inserted AS (
                INSERT INTO \(e.table) (key, \(names.joined(separator: ", ")), hand_written, source_id)
                SELECT s.key, \(names.map { "s.\($0)" }.joined(separator: ", ")), \(handWritten), \(source.map(String.init) ?? "NULL") FROM s
                WHERE NOT EXISTS (SELECT 1 FROM \(e.table) x WHERE x.key = s.key)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM inserted)::int8, (SELECT count(*) FROM updated)::int8
            """
    }

    /// Serialises imports (a transaction-level advisory lock): the upsert's UPDATE and INSERT
    /// must not race another import's INSERT of the same key.
    static let importLock = "SELECT pg_advisory_xact_lock(\(0x736c_6565_7069_6d70 as Int64))"

    /// Removes the edges of imported owners that their new lists no longer contain.
    static func removeStale(_ e: EdgeTable) -> String {
        let attributeMatch = e.attributeInKey ? " AND s.attribute = x.\(e.attribute!)" : ""
        return """
            WITH removed AS (
                DELETE FROM \(e.table) x USING \(e.owner.table) o
                WHERE x.\(e.owner.column) = o.id
                  AND o.key IN (SELECT key FROM stage_\(e.owner.table))
                  AND NOT EXISTS (
                      SELECT 1 FROM stage_\(e.table) s JOIN \(e.target.table) t ON t.key = s.target_key
                      WHERE s.owner_key = o.key AND t.id = x.\(e.target.column)\(attributeMatch))
                RETURNING 1
            )
            SELECT count(*) FROM removed
            """
    }

    /// Adds the listed edges, updating an attribute that changed; counts additions and changes.
    static func insert(_ e: EdgeTable) -> String {
        let keyColumns = [e.owner.column, e.target.column] + (e.attributeInKey ? [e.attribute!] : [])
        var columns = [e.owner.column, e.target.column]
        var values = ["o.id", "t.id"]
        if let a = e.attribute { columns.append(a); values.append("s.attribute") }
        let conflict: String
        if let a = e.attribute, !e.attributeInKey {
            conflict = "DO UPDATE SET \(a) = excluded.\(a) WHERE x.\(a) IS DISTINCT FROM excluded.\(a)"
        } else {
            conflict = "DO NOTHING"
        }
        return """
            WITH added AS (
                INSERT INTO \(e.table) AS x (\(columns.joined(separator: ", ")))
                SELECT \(values.joined(separator: ", "))
                FROM stage_\(e.table) s
                JOIN \(e.owner.table) o ON o.key = s.owner_key
                JOIN \(e.target.table) t ON t.key = s.target_key
                ON CONFLICT (\(keyColumns.joined(separator: ", "))) \(conflict)
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM added
            """
    }

    /// For a bulk load, the edge table's foreign keys are dropped and re-created around the insert:
    /// PostgreSQL checks a live foreign key row by row (about 8 µs each), while re-creating it
    /// validates the whole table in one join. Both happen inside the import's transaction.
    static func dropForeignKeys(_ e: EdgeTable) -> [String] {
        [e.owner.column, e.target.column].map { "ALTER TABLE \(e.table) DROP CONSTRAINT \(e.table)_\($0)_fkey" }
    }

    static func addForeignKeys(_ e: EdgeTable) -> [String] {
        [(e.owner.column, e.owner.table), (e.target.column, e.target.table)].map { column, table in
            "ALTER TABLE \(e.table) ADD CONSTRAINT \(e.table)_\(column)_fkey FOREIGN KEY (\(column)) REFERENCES \(table) (id) ON DELETE CASCADE"
        }
    }

    /// Columns a hand-written file's value of wins over a source's.
    static let descriptive: Set<String> = ["name", "owner", "supplier", "third_party"]

    /// Above this many staged edges, re-creating the foreign keys is cheaper than checking each row.
    static let bulkEdgeThreshold = 20_000
}
