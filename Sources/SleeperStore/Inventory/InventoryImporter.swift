import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// Writes a validated inventory in one transaction: COPY into staging tables, then one
/// set-based upsert per table. Any problem rolls everything back.
public struct InventoryImporter: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// Validates `files` (already read), checks references against the database, and writes.
    /// Throws `InventoryProblems` listing every problem found, having written nothing.
    public func importFiles(
        _ files: [ParsedInventory], dryRun: Bool = false, removals: RemovalGuard = RemovalGuard(),
        actor: String = AuditLog.commandLineActor, now: Date = SleeperClock.now()
    ) async throws -> ImportSummary {
        try await importFiles(files, dryRun: dryRun, removals: removals, actor: actor, now: now) { _, _ in Optional<Int64>.none }.summary
    }

    /// The same, with `then` run on the import's transaction before it commits (the rescore the
    /// import is owed is recorded there, so that it commits with the import or not at all).
    func importFiles<T: Sendable>(
        _ files: [ParsedInventory], dryRun: Bool = false, removals: RemovalGuard = RemovalGuard(), actor: String = AuditLog.commandLineActor,
        now: Date = SleeperClock.now(),
        then: (ImportSummary, PostgresConnection) async throws -> T
    ) async throws -> (summary: ImportSummary, then: T?) {
        PhaseTiming.report("import: files read")
        let summary: ImportSummary, after: T
        do {
            (summary, after) = try await db.transaction { connection in
                let summary = try await write(files, now: now, removals: removals, on: connection, dryRun: dryRun)
                try await AuditLog.record(
                    actor: actor, action: "inventory.import", target: files.map(\.file).joined(separator: ", "),
                    detail: summary.auditDetail, on: connection, logger: db.logger)
                if dryRun { throw DryRunDone(summary: summary) }
                return (summary, try await then(summary, connection))
            }
        } catch let done as DryRunDone {
            return (done.summary, nil)
        }
        // After a bulk load, vacuum what it filled (VACUUM cannot run inside the transaction): until
        // the visibility map is set, index-only scans visit the table too, and a rescore right
        // after a million-credential import took half as long again until autovacuum came round.
        // The import is committed by now: a VACUUM that fails only costs speed, never the answer.
        PhaseTiming.report("import: committed")
        if summary.changedRows >= InventoryImportSQL.bulkEdgeThreshold {
            do { try await db.client.query(PostgresQuery(unsafeSQL: "VACUUM " + Self.tables.joined(separator: ", ")), logger: db.logger) } catch {
                db.logger.warning("VACUUM after the import failed: \(StoreError.describe(error))")
            }
            PhaseTiming.report("import: vacuumed")
        }
        return (summary, after)
    }

    /// A dry run does all the work, then rolls it back by failing the transaction on purpose.
    struct DryRunDone: Error { var summary: ImportSummary }

    static let tables = EntityTable.all.map(\.table) + EdgeTable.all.map(\.table)

    private func write(
        _ files: [ParsedInventory], now: Date, removals: RemovalGuard, on connection: PostgresConnection,
        dryRun: Bool
    ) async throws -> ImportSummary {
        // Joins of a million staged keys to their tables, and the indexes built after a bulk load,
        // spilled to disk in batches with PostgreSQL's default 4 MB.
        try await run([InventoryImportSQL.importLock, "SET LOCAL work_mem = '256MB'", "SET LOCAL maintenance_work_mem = '512MB'"], on: connection)
        // One model per real thing: keys resolved under the import lock, against what is stored.
        let aliases = ModelAliases(logger: db.logger)
        let identity = ModelIdentity.resolve(files, stored: try await aliases.stored(on: connection), storedDigests: try await aliases.storedDigests(on: connection))
        var batch = InventoryValidator.merge(identity.files)
        batch.problems += identity.problems
        PhaseTiming.report("import: files merged")
        let existing = try await storedKeys(for: batch.unresolved, on: connection)
        let lineage = try await storedLineage(excluding: batch.inventory.models.map(\.key), on: connection)
        let problems = InventoryValidator.finish(batch, existing: existing, storedLineage: lineage)
        if !problems.isEmpty { throw InventoryProblems(problems) }
        PhaseTiming.report("import: references checked")
        var summary = ImportSummary(dryRun: dryRun)
        // Stored rows under an alias first, so that the groups write onto the model's own row.
        try await aliases.apply(identity.merges, aliases: identity.aliases, on: connection)
        summary.merges = identity.merges
        for group in ImportGroup.of(identity.files) { summary.add(try await write(group, now: now, removals: removals, on: connection)) }
        summary.signers = try await TrustedSigners.declare(fromInventory: identity.files, on: connection, logger: db.logger)
        // After a bulk load the planner's statistics are stale until autovacuum comes round, and
        // the scoring queries then pick whole-table scans (explain took 0.22 s instead of 0.07 s
        // right after a 1M import). Refresh them now for the tables that grew.
        if summary.changedRows >= InventoryImportSQL.bulkEdgeThreshold {
            try await run(["ANALYZE " + Self.tables.joined(separator: ", ")], on: connection)
        }
        return summary
    }

    /// One source's files (or the hand-written ones): what the source only names first, then
    /// its entities (only the fields it provides, on rows that exist), the edge lists it knows,
    /// and its snapshot's record.
    private func write(_ group: ImportGroup, now: Date, removals: RemovalGuard, on connection: PostgresConnection) async throws -> ImportSummary {
        for table in EntityTable.all { try await run(InventoryImportSQL.createStage(table), on: connection) }
        for edge in EdgeTable.all { try await run(InventoryImportSQL.createStage(edge), on: connection) }
        let origin = group.origin
        let snapshots = SourceSnapshots(db)
        var source: Int64?, listedBefore = 0
        if let origin { (source, listedBefore) = try await snapshots.open(origin, files: group.files, now: now, on: connection) }
        if let origin, let source, origin.stubs.entityCount > 0 {
            _ = try await stage(origin.stubs, stored: nil, on: connection)
            for table in EntityTable.all {
                _ = try await pair(InventoryImportSQL.upsert(table, updating: [], handWritten: false, source: source), on: connection)
            }
            try await snapshots.stageNamed(origin.stubs, source: source, on: connection)
            try await run(EntityTable.all.map { "TRUNCATE stage_\($0.table)" } + EdgeTable.all.map { "TRUNCATE stage_\($0.table)" }, on: connection)
        } else if let source {
            try await snapshots.stageNamed(Inventory(), source: source, on: connection)
        }
        // A hand-written group leaves out what its files said before, unchanged (content hashes).
        let stored = origin == nil ? try await StoredContentHashes.read(on: connection, logger: db.logger) : nil
        let staged = try await stage(group.inventory, stored: stored, on: connection)
        PhaseTiming.report("import: staged \(group.files.joined(separator: ", "))")

        var summary = ImportSummary()
        let counts = entityCounts(group.inventory)
        for table in EntityTable.all {
            let kind = table.kind
            let (inserted, updated, fields) = try await upsert(
                InventoryImportSQL.upsert(
                    table, updating: origin.map { $0.fields[kind] ?? [] }, handWritten: origin == nil,
                    source: source), on: connection)
            summary.entities.append(.init(table: table.table, inFile: counts[table.table] ?? 0, inserted: inserted, updated: updated))
            summary.fieldChanges += fields.map { "\(kind.singular):\($0)" }
        }
        PhaseTiming.report("import: entities upserted")
        let edgeCounts = self.edgeCounts(group.inventory)
        for edge in EdgeTable.all where origin?.edges.contains(edge.table) ?? true {
            let count = staged[edge.table] ?? 0
            let (removed, added, changed) = try await write(edge, staged: count, handWritten: origin == nil, on: connection)
            summary.edges.append(.init(table: edge.table, inFile: edgeCounts[edge.table] ?? 0, added: added, changed: changed, removed: removed))
            PhaseTiming.report("import: \(edge.table) written (\(count) staged)")
        }
        if let origin, let source {
            let snapshot = try await snapshots.reconcile(origin, source: source, listed: listedBefore, removals: removals, group: group, now: now, on: connection)
            if !snapshot.removed.isEmpty { try await run(InventoryImportSQL.clearContentHashes, on: connection) }
            summary.sources.append(snapshot)
            PhaseTiming.report("import: source snapshot recorded")
            summary.findings += origin.findings
            summary.literalSecrets += origin.literalSecrets
        }
        return summary
    }

    /// Writes one staged edge list: stale edges of the staged owners removed, attributes that
    /// changed updated, new edges added. A large list is written with the table's foreign keys
    /// dropped and re-created (checked row by row, a live foreign key costs about 8 µs an edge);
    /// a list as large as a third of the table also without its indexes, which are built again
    /// after the insert (an index maintained row by row cost 3 to 4 times the build).
    private func write(_ edge: EdgeTable, staged: Int, handWritten: Bool, on connection: PostgresConnection) async throws -> (removed: Int, added: Int, changed: Int) {
        // The planner's estimate of the table's size is enough to choose (0 for a new table).
        let rows = try await single("SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = '\(edge.table)'::regclass", on: connection)
        let unindexed = staged >= 1_000 && staged * 3 >= rows
        let bulk = unindexed || staged >= InventoryImportSQL.bulkEdgeThreshold
        if bulk { try await run(InventoryImportSQL.dropForeignKeys(edge), on: connection) }
        if unindexed { try await run(InventoryImportSQL.dropIndexes(edge), on: connection) }
        // Run even with nothing staged: an owner that states an empty list (or a source that now
        // lists none for it) loses the edges it had.
        let removed = try await single(InventoryImportSQL.removeStale(edge, handWritten: handWritten), on: connection)
        var added = 0, changed = 0
        if unindexed {
            if edge.attribute != nil, !edge.attributeInKey { changed = try await single(InventoryImportSQL.updateAttribute(edge, handWritten: handWritten), on: connection) }
            added = try await single(InventoryImportSQL.insertNew(edge, handWritten: handWritten), on: connection)
            try await run(InventoryImportSQL.createIndexes(edge), on: connection)
        } else if staged > 0 {
            (added, changed) = try await pair(InventoryImportSQL.insert(edge, handWritten: handWritten), on: connection)
        }
        if bulk { try await run(InventoryImportSQL.addForeignKeys(edge), on: connection) }
        return (removed, added, changed)
    }

    func run(_ statements: [String], on connection: PostgresConnection) async throws {
        for sql in statements { try await connection.query(PostgresQuery(unsafeSQL: sql), logger: db.logger) }
    }

    private func pair(_ sql: String, on connection: PostgresConnection) async throws -> (Int, Int) {
        for try await (a, b) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: db.logger).decode((Int, Int).self) {
            return (a, b)
        }
        return (0, 0)
    }

    private func upsert(_ sql: String, on connection: PostgresConnection) async throws -> (Int, Int, [String]) {
        for try await (a, b, fields) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: db.logger).decode((Int, Int, [String]).self) {
            return (a, b, fields)
        }
        return (0, 0, [])
    }

    private func single(_ sql: String, on connection: PostgresConnection) async throws -> Int {
        for try await a in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: db.logger).decode(Int.self) {
            return a
        }
        return 0
    }

    /// Which of the references the files did not define already exist in the database.
    private func storedKeys(for references: [InventoryReference], on connection: PostgresConnection) async throws -> Set<EntityReference> {
        var found: Set<EntityReference> = []
        for (kind, refs) in Dictionary(grouping: references, by: \.kind) {
            let keys = Array(Set(refs.map(\.key)))
            let sql = PostgresQuery(unsafeSQL: "SELECT key FROM \(kind.rawValue) WHERE key = ANY($1)", binds: try binds(keys))
            for try await key in try await connection.query(sql, logger: db.logger).decode(String.self) {
                found.insert(EntityReference(kind: kind, key: key))
            }
        }
        return found
    }

    /// Lineage edges already stored for models this import does not redefine, so that a cycle
    /// closed partly by stored edges is caught too.
    private func storedLineage(excluding keys: [String], on connection: PostgresConnection) async throws -> [(child: String, parent: String)] {
        let sql = PostgresQuery(
            unsafeSQL: """
                SELECT c.key, p.key FROM derived_from d
                JOIN models c ON c.id = d.model_id JOIN models p ON p.id = d.parent_id
                WHERE c.key <> ALL($1)
                """, binds: try binds(keys))
        var edges: [(child: String, parent: String)] = []
        for try await (child, parent) in try await connection.query(sql, logger: db.logger).decode((String, String).self) {
            edges.append((child, parent))
        }
        return edges
    }

    private func binds(_ keys: [String]) throws -> PostgresBindings {
        var b = PostgresBindings()
        b.append(keys)
        return b
    }

    private func entityCounts(_ inv: Inventory) -> [String: Int] {
        [
            "resources": inv.resources.count, "datasets": inv.datasets.count, "models": inv.models.count,
            "credentials": inv.credentials.count, "agents": inv.agents.count,
        ]
    }

    private func edgeCounts(_ inv: Inventory) -> [String: Int] {
        [
            "trained_on": inv.models.reduce(0) { $0 + $1.trainedOn.count },
            "derived_from": inv.models.reduce(0) { $0 + $1.derivedFrom.count },
            "uses_model": inv.agents.reduce(0) { $0 + $1.usesModels.count },
            "delegates_to": inv.agents.reduce(0) { $0 + $1.delegatesTo.count },
            "holds": inv.agents.reduce(0) { $0 + $1.holds.count },
            "grants": inv.credentials.reduce(0) { $0 + $1.grants.count },
        ]
    }
}

extension ImportSummary {
    /// Rows the import inserted, updated or removed.
    var changedRows: Int {
        entities.map { $0.inserted + $0.updated }.reduce(0, +) + edges.map { $0.added + $0.removed }.reduce(0, +)
    }
}
