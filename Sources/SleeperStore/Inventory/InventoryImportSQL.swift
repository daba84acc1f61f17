/// The statements of an import, generated from `EntityTable` and `EdgeTable`. Staging tables have
/// no indexes and vanish at commit; the writes into the real tables are one statement per table.
enum InventoryImportSQL {
    /// An import writes one group of files after another (each source, then the hand-written
    /// files), each through fresh staging tables.
    static func createStage(_ e: EntityTable) -> [String] {
        let columns = (["key text"] + e.columns.map { "\($0.name) \($0.stageType)" } + ["stated bigint", "content_hash bigint"]).joined(separator: ", ")
        return ["DROP TABLE IF EXISTS stage_\(e.table)", "CREATE TEMP TABLE stage_\(e.table) (\(columns)) ON COMMIT DROP"]
    }

    static func createStage(_ e: EdgeTable) -> [String] {
        ["DROP TABLE IF EXISTS stage_\(e.table)", "CREATE TEMP TABLE stage_\(e.table) (owner_key text, target_key text, attribute text) ON COMMIT DROP"]
    }

    /// Inserts new keys, updates changed rows only, counts both, and lists the first field
    /// changes (`KEY: field old → new`). `updating` limits the update to the columns a source
    /// provides (nil: every column; empty: never update, for entities a source only names).
    ///
    /// Merged field by field: a hand-written entry sets the fields it states (`stated`, null
    /// included) and keeps the others as they are; what it set is remembered (`hand_fields`) and
    /// stands over every source's word, whatever the order of imports. `handWritten` also marks
    /// the row as one no source's snapshot removes.
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
        let staged = "SELECT key, " + e.columns.map { "\($0.expression) AS \($0.name)" }.joined(separator: ", ") + ", stated, content_hash FROM stage_\(e.table)"
        // The content hash is written with the data but is not data: a row whose hash alone
        // differs (a first re-import after the hash was cleared) is not counted as changed, and
        // keeps its `updated_at`. `o` is the row as it was before this statement.
        // What a source only names is never updated (but its stored hash is cleared).
        let set = updated.isEmpty ? [] : updated + (handWritten ? ["hand_written", "hand_fields"] : []) + (source != nil ? ["source_id"] : [])
        let newValue: [String: String] = Dictionary(
            uniqueKeysWithValues: updated.map { column in
                let bit = e.bit(column)
                return (
                    column,
                    handWritten
                        ? "CASE WHEN coalesce(s.stated, -1) & \(bit) <> 0 THEN s.\(column) ELSE o.\(column) END"
                        : "CASE WHEN o.hand_fields & \(bit) <> 0 THEN o.\(column) WHEN coalesce(s.stated, -1) & \(bit) = 0 THEN coalesce(o.\(column), s.\(column)) ELSE s.\(column) END"
                )
            })
        let values =
            updated.map { newValue[$0]! } + (handWritten ? ["true", "o.hand_fields | coalesce(s.stated, -1)"] : [])
            + (source.map { ["COALESCE(o.source_id, \($0))"] } ?? [])
        let old = "(\(set.map { "o.\($0)" }.joined(separator: ", ")))"
        let new = "(\(values.joined(separator: ", ")))"
        let differs = set.isEmpty ? "false" : "\(old) IS DISTINCT FROM \(new)"
        let assigned = set.isEmpty ? "" : set.joined(separator: ", ") + ", "
        let assignedValues = set.isEmpty ? "" : values.joined(separator: ", ") + ", "
        // Each changed field in words, for the dry run and the audit entry.
        let fieldChanges =
            updated.isEmpty
            ? "NULL::text"
            : "o.key || ': ' || nullif(array_to_string(ARRAY["
                + updated.map { column in
                    "CASE WHEN o.\(column) IS DISTINCT FROM \(newValue[column]!) THEN '\(column) ' || coalesce(o.\(column)::text, '(none)') || ' → ' || coalesce((\(newValue[column]!))::text, '(none)') END"
                }.joined(separator: ", ") + "], ', '), '')"
        let update = """
            UPDATE \(e.table) AS t SET (\(assigned)content_hash, updated_at) = ROW(\(assignedValues)s.content_hash, CASE WHEN \(differs) THEN now() ELSE o.updated_at END)
                FROM s JOIN \(e.table) o ON o.key = s.key
                WHERE t.id = o.id AND (\(differs) OR o.content_hash IS DISTINCT FROM s.content_hash)
                RETURNING \(differs) AS changed, CASE WHEN \(differs) THEN \(fieldChanges) END AS fields
            """
        return """
            WITH s AS MATERIALIZED (\(staged)),
            updated AS (\(update)),
            inserted AS (
                INSERT INTO \(e.table) (key, \(names.joined(separator: ", ")), hand_written, hand_fields, source_id, content_hash)
                SELECT s.key, \(names.map { "s.\($0)" }.joined(separator: ", ")), \(handWritten), \(handWritten ? "coalesce(s.stated, -1)" : "0"),
                       \(source.map(String.init) ?? "NULL"), s.content_hash FROM s
                WHERE NOT EXISTS (SELECT 1 FROM \(e.table) x WHERE x.key = s.key)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM inserted)::int8, (SELECT count(*) FROM updated WHERE changed)::int8,
                   coalesce((SELECT array_agg(fields) FROM (SELECT fields FROM updated WHERE changed AND fields IS NOT NULL LIMIT \(fieldChangesListed)) f), '{}')
            """
    }

    /// Field changes listed per table and import (the counts are always whole).
    static let fieldChangesListed = 200

    /// Serialises imports (a transaction-level advisory lock): the upsert's UPDATE and INSERT
    /// must not race another import's INSERT of the same key.
    static let importLock = "SELECT pg_advisory_xact_lock(\(0x736c_6565_7069_6d70 as Int64))"

    /// The owners whose list an import writes: for a hand-written file, those whose entry states
    /// the list; for a source, those whose list no hand-written file set. `o` is the owner's row.
    ///
    /// A source's entry that states no fields (`stated` 0: a model it names by an alias, see
    /// `ModelIdentity`) writes no lists: those are the owning source's and the hand-written files'.
    static func owns(_ e: EdgeTable, handWritten: Bool) -> String {
        "o.key IN (SELECT key FROM stage_\(e.owner.table) WHERE coalesce(stated, -1) & \(e.bit) <> 0)" + (handWritten ? "" : " AND o.hand_fields & \(e.bit) = 0")
    }

    /// Removes the edges of imported owners that their new lists no longer contain.
    static func removeStale(_ e: EdgeTable, handWritten: Bool) -> String {
        let attributeMatch = e.attributeInKey ? e.attribute.map { " AND s.attribute = x.\($0)" } ?? "" : ""
        return """
            WITH removed AS (
                DELETE FROM \(e.table) x USING \(e.owner.table) o
                WHERE x.\(e.owner.column) = o.id
                  AND \(owns(e, handWritten: handWritten))
                  AND NOT EXISTS (
                      SELECT 1 FROM stage_\(e.table) s JOIN \(e.target.table) t ON t.key = s.target_key
                      WHERE s.owner_key = o.key AND t.id = x.\(e.target.column)\(attributeMatch))
                RETURNING 1
            )
            SELECT count(*) FROM removed
            """
    }

    /// Adds the listed edges, updating an attribute that changed; counts additions and changes.
    static func insert(_ e: EdgeTable, handWritten: Bool) -> String {
        let keyColumns = keyColumns(e)
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
                WHERE \(owns(e, handWritten: handWritten))
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

    /// The key columns of an edge table: its identity.
    static func keyColumns(_ e: EdgeTable) -> [String] {
        [e.owner.column, e.target.column] + (e.attributeInKey ? e.attribute.map { [$0] } ?? [] : [])
    }

    /// The staged edges with their ids resolved (owner and target keys joined to their tables).
    private static func resolved(_ e: EdgeTable, handWritten: Bool) -> String {
        """
        SELECT o.id AS \(e.owner.column), t.id AS \(e.target.column)\(e.attribute.map { ", s.attribute AS \($0)" } ?? "")
        FROM stage_\(e.table) s
        JOIN \(e.owner.table) o ON o.key = s.owner_key
        JOIN \(e.target.table) t ON t.key = s.target_key
        WHERE \(owns(e, handWritten: handWritten))
        """
    }

    /// Without indexes: a non-key attribute (an agent's delivery of a credential) that changed.
    static func updateAttribute(_ e: EdgeTable, handWritten: Bool) -> String {
        guard let a = e.attribute else { return "SELECT 0::int8" }
        let match = keyColumns(e).map { "x.\($0) = r.\($0)" }.joined(separator: " AND ")
        return """
            WITH changed AS (
                UPDATE \(e.table) x SET \(a) = r.\(a) FROM (\(resolved(e, handWritten: handWritten))) r
                WHERE \(match) AND x.\(a) IS DISTINCT FROM r.\(a)
                RETURNING 1
            )
            SELECT count(*) FROM changed
            """
    }

    /// Without indexes: the staged edges the table does not have yet (one hash anti-join).
    static func insertNew(_ e: EdgeTable, handWritten: Bool) -> String {
        let columns = [e.owner.column, e.target.column] + (e.attribute.map { [$0] } ?? [])
        let match = keyColumns(e).map { "x.\($0) = r.\($0)" }.joined(separator: " AND ")
        return """
            WITH added AS (
                INSERT INTO \(e.table) (\(columns.joined(separator: ", ")))
                SELECT \(columns.map { "r.\($0)" }.joined(separator: ", ")) FROM (\(resolved(e, handWritten: handWritten))) r
                WHERE NOT EXISTS (SELECT 1 FROM \(e.table) x WHERE \(match))
                RETURNING 1
            )
            SELECT count(*) FROM added
            """
    }

    /// The edge table's primary key and its index on the target, as migration 0001 made them.
    static func dropIndexes(_ e: EdgeTable) -> [String] {
        ["ALTER TABLE \(e.table) DROP CONSTRAINT \(e.table)_pkey", "DROP INDEX \(e.targetIndex)"]
    }

    static func createIndexes(_ e: EdgeTable) -> [String] {
        [
            "ALTER TABLE \(e.table) ADD PRIMARY KEY (\(keyColumns(e).joined(separator: ", ")))",
            "CREATE INDEX \(e.targetIndex) ON \(e.table) (\(e.target.column))",
        ]
    }

    /// A source that removed entities may have removed, by cascade, edges that hand-written
    /// entities own: no stored content hash can be trusted to describe its rows after that.
    static let clearContentHashes = EntityTable.all.map { "UPDATE \($0.table) SET content_hash = NULL WHERE content_hash IS NOT NULL" }

    /// Above this many staged edges, re-creating the foreign keys is cheaper than checking each row.
    static let bulkEdgeThreshold = 20_000
}
