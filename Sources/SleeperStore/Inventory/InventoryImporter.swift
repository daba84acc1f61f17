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
    public func importFiles(_ files: [ParsedInventory], dryRun: Bool = false, actor: String = AuditLog.commandLineActor,
                            now: Date = SleeperClock.now()) async throws -> ImportSummary {
        let batch = InventoryValidator.merge(files)
        // A dry run does all the work, then rolls it back by failing the transaction on purpose.
        struct DryRunDone: Error { var summary: ImportSummary }
        let summary: ImportSummary
        do {
            summary = try await db.transaction { connection in
                let summary = try await write(batch, groups: ImportGroup.of(files), now: now, on: connection, dryRun: dryRun)
                try await AuditLog.record(actor: actor, action: "inventory.import", target: files.map(\.file).joined(separator: ", "),
                                          detail: summary.auditDetail, on: connection, logger: db.logger)
                if dryRun { throw DryRunDone(summary: summary) }
                return summary
            }
        } catch let done as DryRunDone {
            return done.summary
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
        return summary
    }

    static let tables = EntityTable.all.map(\.table) + EdgeTable.all.map(\.table)

    private func write(_ batch: InventoryValidator.Batch, groups: [ImportGroup], now: Date, on connection: PostgresConnection, dryRun: Bool) async throws -> ImportSummary {
        try await run([InventoryImportSQL.importLock], on: connection)
        let existing = try await storedKeys(for: batch.unresolved, on: connection)
        let lineage = try await storedLineage(excluding: batch.inventory.models.map(\.key), on: connection)
        let problems = InventoryValidator.finish(batch, existing: existing, storedLineage: lineage)
        if !problems.isEmpty { throw InventoryProblems(problems) }
        PhaseTiming.report("import: references checked")
        var summary = ImportSummary(dryRun: dryRun)
        for group in groups { summary.add(try await write(group, now: now, on: connection)) }
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
    private func write(_ group: ImportGroup, now: Date, on connection: PostgresConnection) async throws -> ImportSummary {
        for table in EntityTable.all { try await run(InventoryImportSQL.createStage(table), on: connection) }
        for edge in EdgeTable.all { try await run(InventoryImportSQL.createStage(edge), on: connection) }
        let origin = group.origin
        let snapshots = SourceSnapshots(db)
        var source: Int64?
        if let origin { source = try await snapshots.open(origin, files: group.files, now: now, on: connection) }
        if let origin, let source, origin.stubs.entityCount > 0 {
            try await stage(origin.stubs, on: connection)
            for table in EntityTable.all {
                _ = try await pair(InventoryImportSQL.upsert(table, updating: [], handWritten: false, source: source), on: connection)
            }
            try await snapshots.stageNamed(origin.stubs, source: source, on: connection)
            try await run(EntityTable.all.map { "TRUNCATE stage_\($0.table)" } + EdgeTable.all.map { "TRUNCATE stage_\($0.table)" }, on: connection)
        } else if let source {
            try await snapshots.stageNamed(Inventory(), source: source, on: connection)
        }
        try await stage(group.inventory, on: connection)
        PhaseTiming.report("import: staged \(group.files.joined(separator: ", "))")

        var summary = ImportSummary()
        let counts = entityCounts(group.inventory)
        for table in EntityTable.all {
            let kind = EntityKind(rawValue: table.table) ?? .models
            let (inserted, updated) = try await pair(InventoryImportSQL.upsert(table, updating: origin.map { $0.fields[kind] ?? [] }, handWritten: origin == nil,
                                                                               source: source), on: connection)
            summary.entities.append(.init(table: table.table, inFile: counts[table.table] ?? 0, inserted: inserted, updated: updated))
        }
        PhaseTiming.report("import: entities upserted")
        let edgeCounts = self.edgeCounts(group.inventory)
        for edge in EdgeTable.all where origin?.edges.contains(edge.table) ?? true {
            let staged = edgeCounts[edge.table] ?? 0
            let bulk = staged >= InventoryImportSQL.bulkEdgeThreshold
            if bulk { try await run(InventoryImportSQL.dropForeignKeys(edge), on: connection) }
            let removed = try await single(InventoryImportSQL.removeStale(edge), on: connection)
            let (added, changed) = try await pair(InventoryImportSQL.insert(edge), on: connection)
            if bulk { try await run(InventoryImportSQL.addForeignKeys(edge), on: connection) }
            summary.edges.append(.init(table: edge.table, inFile: staged, added: added, changed: changed, removed: removed))
        }
        PhaseTiming.report("import: edges written")
        if let origin, let source {
            summary.sources.append(try await snapshots.reconcile(origin, source: source, group: group, now: now, on: connection))
            PhaseTiming.report("import: source snapshot recorded")
            summary.findings += origin.findings
        }
        return summary
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
        let sql = PostgresQuery(unsafeSQL: """
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
        ["resources": inv.resources.count, "datasets": inv.datasets.count, "models": inv.models.count,
         "credentials": inv.credentials.count, "agents": inv.agents.count]
    }

    private func edgeCounts(_ inv: Inventory) -> [String: Int] {
        ["trained_on": inv.models.reduce(0) { $0 + $1.trainedOn.count },
         "derived_from": inv.models.reduce(0) { $0 + $1.derivedFrom.count },
         "uses_model": inv.agents.reduce(0) { $0 + $1.usesModels.count },
         "delegates_to": inv.agents.reduce(0) { $0 + $1.delegatesTo.count },
         "holds": inv.agents.reduce(0) { $0 + $1.holds.count },
         "grants": inv.credentials.reduce(0) { $0 + $1.grants.count }]
    }

    func stage(_ inv: Inventory, on c: PostgresConnection) async throws {
        let logger = db.logger
        func columns(_ e: EntityTable) -> [String] { ["key"] + e.columns.map(\.name) }
        let edgeColumns = ["owner_key", "target_key", "attribute"]

        try await c.copyRows(inv.resources, into: "stage_resources", columns: columns(.resources), logger: logger) { w, r in
            w.text(r.key); w.text(r.name); w.text(r.owner); w.integer(r.tier.rawValue)
        }
        try await c.copyRows(inv.datasets, into: "stage_datasets", columns: columns(.datasets), logger: logger) { w, d in
            w.text(d.key); w.text(d.name); w.text(d.owner); w.text(d.provenance.rawValue)
        }
        try await c.copyRows(inv.models, into: "stage_models", columns: columns(.models), logger: logger) { w, m in
            w.text(m.key); w.text(m.name); w.text(m.supplier); w.text(m.owner); w.bool(m.thirdParty)
            w.text(m.digest); w.bool(m.signed); w.text(m.serialization.rawValue)
            w.bool(m.lineageVerified); w.bool(m.trainingDataDeclared)
        }
        try await c.copyRows(inv.credentials, into: "stage_credentials", columns: columns(.credentials), logger: logger) { w, k in
            w.text(k.key); w.text(k.kind.rawValue); w.text(k.provider); w.text(k.owner); w.text(k.fingerprint)
            w.textArray(k.scopes); w.epoch(k.createdAt); w.epoch(k.lastRotatedAt); w.epoch(k.expiresAt)
            w.epoch(k.lastUsedAt); w.integer(k.ttlSeconds); w.bool(k.exposed)
        }
        try await c.copyRows(inv.agents, into: "stage_agents", columns: columns(.agents), logger: logger) { w, a in
            w.text(a.key); w.text(a.name); w.text(a.owner); w.text(a.inputTrust.rawValue)
        }

        typealias Edge = (owner: String, target: String, attribute: String?)
        func copyEdges(_ edges: [Edge], _ table: EdgeTable) async throws {
            try await c.copyRows(edges, into: "stage_\(table.table)", columns: edgeColumns, logger: logger) { w, e in
                w.text(e.owner); w.text(e.target); w.text(e.attribute)
            }
        }
        try await copyEdges(inv.models.flatMap { m in m.trainedOn.map { (m.key, $0, nil) } }, .trainedOn)
        try await copyEdges(inv.models.flatMap { m in m.derivedFrom.map { (m.key, $0.model, $0.relation.rawValue) } }, .derivedFrom)
        try await copyEdges(inv.agents.flatMap { a in a.usesModels.map { (a.key, $0, nil) } }, .usesModel)
        try await copyEdges(inv.agents.flatMap { a in a.delegatesTo.map { (a.key, $0, nil) } }, .delegatesTo)
        try await copyEdges(inv.agents.flatMap { a in a.holds.map { (a.key, $0.credential, $0.delivery.rawValue) } }, .holds)
        try await copyEdges(inv.credentials.flatMap { k in k.grants.map { (k.key, $0.resource, $0.action.rawValue) } }, .grants)
    }
}

extension ImportSummary {
    /// Rows the import inserted, updated or removed.
    var changedRows: Int {
        entities.map { $0.inserted + $0.updated }.reduce(0, +) + edges.map { $0.added + $0.removed }.reduce(0, +)
    }
}
