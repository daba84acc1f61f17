import Foundation
import PostgresNIO
import SleeperCore

/// The model aliases in force (`model_aliases`) and what an import that finds new ones does to
/// the stored rows: an alias row is renamed to its model's key, or, when that model is stored
/// too, merged into it (its edges, its sources and the fields the model lacks) and deleted.
struct ModelAliases: Sendable {
    let logger: Logger

    func stored(on c: PostgresConnection) async throws -> [String: ModelIdentity.Merge] {
        var out: [String: ModelIdentity.Merge] = [:]
        for try await (alias, canonical, reason) in try await c.query("SELECT alias, canonical, reason FROM model_aliases", logger: logger)
            .decode((String, String, String).self)
        {
            out[alias] = ModelIdentity.Merge(alias: alias, canonical: canonical, reason: reason)
        }
        return out
    }

    func storedDigests(on c: PostgresConnection) async throws -> [String: String] {
        var out: [String: String] = [:]
        for try await (key, digest) in try await c.query("SELECT key, digest FROM models WHERE digest IS NOT NULL", logger: logger).decode((String, String).self) {
            out[key] = digest
        }
        return out
    }

    /// The pairs of stored rows an alias names: (alias row, model row), both stored.
    static let pairs = """
        SELECT a.id AS alias_id, m.id AS canon_id
        FROM unnest($1::text[], $2::text[]) AS x(alias, canonical)
        JOIN models a ON a.key = x.alias JOIN models m ON m.key = x.canonical
        """

    /// Each edge column that holds a model, with the column beside it that, with it, makes the edge.
    static let modelColumns: [(table: String, column: String, other: String)] = EdgeTable.all.flatMap { e -> [(String, String, String)] in
        var out: [(String, String, String)] = []
        if e.owner.table == "models" { out.append((e.table, e.owner.column, e.target.column)) }
        if e.target.table == "models" { out.append((e.table, e.target.column, e.owner.column)) }
        return out
    }

    /// Records `merges` and brings the stored rows in line with every alias in force.
    func apply(_ merges: [ModelIdentity.Merge], aliases: [String: String], on c: PostgresConnection) async throws {
        guard !merges.isEmpty else { return }
        try await c.query(
            """
            INSERT INTO model_aliases (alias, canonical, reason)
            SELECT * FROM unnest(\(merges.map(\.alias)), \(merges.map(\.canonical)), \(merges.map(\.reason)))
            ON CONFLICT (alias) DO UPDATE SET canonical = excluded.canonical, reason = excluded.reason, recorded_at = now()
            """, logger: logger)
        // An alias of a key that is now an alias itself points at the model's key; a model's key
        // that was an alias before is one no longer.
        try await c.query(
            "UPDATE model_aliases a SET canonical = x.canonical FROM unnest(\(aliases.map(\.key)), \(aliases.map(\.value))) AS x(alias, canonical) WHERE a.canonical = x.alias", logger: logger)
        try await c.query("DELETE FROM model_aliases WHERE alias IN (SELECT canonical FROM model_aliases)", logger: logger)

        let alias = merges.map(\.alias), canonical = merges.map(\.canonical)
        var binds = PostgresBindings()
        binds.append(alias)
        binds.append(canonical)
        // The digests seen under the alias are the model's history too.
        try await c.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO model_digests (model_key, digest, observed_at)
                    SELECT x.canonical, d.digest, d.observed_at FROM unnest($1::text[], $2::text[]) AS x(alias, canonical)
                    JOIN model_digests d ON d.model_key = x.alias
                    ON CONFLICT (model_key, observed_at) DO NOTHING
                    """, binds: binds), logger: logger)
        // A model stored only under an alias takes its key (one alias per model; any others merge next).
        try await c.query(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE models a SET key = x.canonical, content_hash = NULL
                    FROM (SELECT DISTINCT ON (canonical) alias, canonical FROM unnest($1::text[], $2::text[]) AS u(alias, canonical)
                          WHERE EXISTS (SELECT 1 FROM models s WHERE s.key = u.alias) ORDER BY canonical, alias) x
                    WHERE a.key = x.alias AND NOT EXISTS (SELECT 1 FROM models m WHERE m.key = x.canonical)
                    """, binds: binds), logger: logger)
        // Both stored: the alias's edges move to the model (an edge it has already is dropped).
        for (table, column, other) in Self.modelColumns {
            try await c.query(
                PostgresQuery(
                    unsafeSQL: """
                        WITH p AS (\(Self.pairs))
                        UPDATE \(table) t SET \(column) = p.canon_id FROM p
                        WHERE t.\(column) = p.alias_id
                          AND NOT EXISTS (SELECT 1 FROM \(table) d WHERE d.\(column) = p.canon_id AND d.\(other) = t.\(other))
                        """, binds: binds), logger: logger)
        }
        try await c.query("DELETE FROM derived_from WHERE model_id = parent_id", logger: logger)
        try await c.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH p AS (\(Self.pairs))
                    INSERT INTO entity_sources (source_id, kind, entity_id, seen_at)
                    SELECT e.source_id, 'models', p.canon_id, e.seen_at FROM entity_sources e JOIN p ON e.kind = 'models' AND e.entity_id = p.alias_id
                    UNION ALL
                    SELECT a.source_id, 'models', p.canon_id, a.updated_at FROM p JOIN models a ON a.id = p.alias_id WHERE a.source_id IS NOT NULL
                    ON CONFLICT DO NOTHING
                    """, binds: binds), logger: logger)
        try await c.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH p AS (\(Self.pairs))
                    UPDATE models m SET supplier = coalesce(m.supplier, a.supplier), owner = coalesce(m.owner, a.owner),
                           digest = coalesce(m.digest, a.digest), source_id = coalesce(m.source_id, a.source_id),
                           hand_written = m.hand_written OR a.hand_written, signed = m.signed OR a.signed,
                           lineage_verified = m.lineage_verified OR a.lineage_verified, content_hash = NULL
                    FROM p JOIN models a ON a.id = p.alias_id WHERE m.id = p.canon_id
                    """, binds: binds), logger: logger)
        try await c.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH p AS (\(Self.pairs)), gone AS (DELETE FROM models a USING p WHERE a.id = p.alias_id RETURNING a.id)
                    DELETE FROM entity_sources e USING gone WHERE e.kind = 'models' AND e.entity_id = gone.id
                    """, binds: binds), logger: logger)
    }
}
