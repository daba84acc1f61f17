import Crypto
import Foundation
import NIOCore
import PostgresNIO
import SleeperCore

/// The rows an import stages, one encoder per table. An entity's content hash is made from exactly
/// these bytes (its own row and the edges it owns), so what is compared is what would be written.
enum InventoryRows {
    static func resource(_ w: inout CopyTextWriter, _ r: Inventory.Resource) {
        w.text(r.key); w.text(r.name); w.text(r.owner); w.integer(r.tier.rawValue); w.textArray(r.endpoints)
    }

    static func dataset(_ w: inout CopyTextWriter, _ d: Inventory.Dataset) {
        w.text(d.key); w.text(d.name); w.text(d.owner); w.text(d.provenance.rawValue)
    }

    static func model(_ w: inout CopyTextWriter, _ m: Inventory.Model) {
        w.text(m.key); w.text(m.name); w.text(m.supplier); w.text(m.owner); w.bool(m.thirdParty)
        w.text(m.digest); w.bool(m.signed); w.text(m.serialization.rawValue)
        w.bool(m.lineageVerified); w.bool(m.trainingDataDeclared)
    }

    static func credential(_ w: inout CopyTextWriter, _ k: Inventory.Credential) {
        w.text(k.key); w.text(k.kind.rawValue); w.text(k.provider); w.text(k.owner); w.text(k.fingerprint)
        w.textArray(k.scopes); w.epoch(k.createdAt); w.epoch(k.lastRotatedAt); w.epoch(k.expiresAt)
        w.epoch(k.lastUsedAt); w.integer(k.ttlSeconds); w.bool(k.exposed); w.text(k.state.rawValue)
    }

    static func agent(_ w: inout CopyTextWriter, _ a: Inventory.Agent) {
        w.text(a.key); w.text(a.name); w.text(a.owner); w.text(a.inputTrust.rawValue)
        if let tools = a.tools { w.textArray(tools) } else { w.text(nil) }
        w.textArray(a.endpoints)
        w.textArray(a.traceNames)
    }

    /// The edge lists each kind of entity owns, as `(owner_key, target_key, attribute)` rows.
    static let modelEdges: [OwnedEdges<Inventory.Model>] = [
        .init(.trainedOn, count: \.trainedOn.count) { w, m in for d in m.trainedOn { edge(&w, m.key, d, nil) } },
        .init(.derivedFrom, count: \.derivedFrom.count) { w, m in for d in m.derivedFrom { edge(&w, m.key, d.model, d.relation.rawValue) } },
    ]
    static let agentEdges: [OwnedEdges<Inventory.Agent>] = [
        .init(.usesModel, count: \.usesModels.count) { w, a in for m in a.usesModels { edge(&w, a.key, m, nil) } },
        .init(.delegatesTo, count: \.delegatesTo.count) { w, a in for d in a.delegatesTo { edge(&w, a.key, d, nil) } },
        .init(.holds, count: \.holds.count) { w, a in for h in a.holds { edge(&w, a.key, h.credential, h.delivery.rawValue) } },
    ]
    static let credentialEdges: [OwnedEdges<Inventory.Credential>] = [
        .init(.grants, count: \.grants.count) { w, k in for g in k.grants { edge(&w, k.key, g.resource, g.action.rawValue) } }
    ]

    private static func edge(_ w: inout CopyTextWriter, _ owner: String, _ target: String, _ attribute: String?) {
        w.text(owner); w.text(target); w.text(attribute); w.endRowInBuffer()
    }
}

/// An edge list an entity owns: its table, how many edges an entity has in it, and how they are written.
struct OwnedEdges<Entity>: Sendable {
    var table: EdgeTable
    var count: @Sendable (Entity) -> Int
    var write: @Sendable (inout CopyTextWriter, Entity) -> Void
    init(_ table: EdgeTable, count: @escaping @Sendable (Entity) -> Int, write: @escaping @Sendable (inout CopyTextWriter, Entity) -> Void) {
        (self.table, self.count, self.write) = (table, count, write)
    }
}

/// One kind of entity as the import stages it: how its row and its edges are written, and which
/// of the file's entities go in.
struct StagedKind<Entity: Sendable>: Sendable {
    var table: EntityTable
    var items: [Entity]
    var key: @Sendable (Entity) -> String
    var row: @Sendable (inout CopyTextWriter, Entity) -> Void
    /// The fields a hand-written entry stated (`InventoryFields` bits; nil: all).
    var stated: @Sendable (Entity) -> UInt64?
    var edges: [OwnedEdges<Entity>] = []

    /// The content hash of each item: the first 8 bytes of the SHA-256 of its row and its edge rows
    /// (each edge table introduced by its name, so that rows of one cannot pass for another's).
    /// Computed on every core; at a million credentials this is one pass over what COPY sends.
    func contentHashes() -> [Int] {
        let count = items.count, chunk = 4_096
        guard count > 0 else { return [] }
        let chunks = (count + chunk - 1) / chunk
        let result = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        defer { result.deallocate() }
        let (items, row, edges, stated) = (items, row, edges, stated)
        nonisolated(unsafe) let out = result
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            var w = CopyTextWriter(nil)
            for i in (c * chunk)..<min(count, (c + 1) * chunk) {
                w.reset()
                row(&w, items[i])
                w.integer(stated(items[i]).map { Int(Int64(bitPattern: $0)) })
                w.endRowInBuffer()
                for list in edges {
                    w.text(list.table.table); w.endRowInBuffer()
                    list.write(&w, items[i])
                }
                out[i] = w.buffer.withUnsafeReadableBytes { bytes in
                    var hasher = SHA256()
                    hasher.update(bufferPointer: bytes)
                    return hasher.finalize().withUnsafeBytes { Int(Int64(bigEndian: $0.loadUnaligned(as: Int64.self))) }
                }
            }
        }
        return Array(out)
    }
}

/// What hand-written files last said of each entity, by key: the content hashes stored with the rows.
struct StoredContentHashes: Sendable {
    var byTable: [String: [String: Int]] = [:]

    static func read(on connection: PostgresConnection, logger: Logger) async throws -> StoredContentHashes {
        var stored = StoredContentHashes()
        for table in EntityTable.all {
            let sql = "SELECT array_agg(key), array_agg(content_hash) FROM \(table.table) WHERE content_hash IS NOT NULL"
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
                let cells = Array(row).map { BinaryArray($0.bytes) }
                guard cells.count == 2, let keys = try cells[0]?.strings(), let hashes = try cells[1]?.integers() else { continue }
                var map: [String: Int] = [:]
                map.reserveCapacity(keys.count)
                for (key, hash) in zip(keys, hashes) { if let key, let hash { map[key] = hash } }
                stored.byTable[table.table] = map
            }
        }
        return stored
    }
}

extension InventoryImporter {
    /// Stages `inv` into the staging tables and returns how many edges each edge table received.
    /// With `stored` (a hand-written group), each entity carries its content hash, and an entity
    /// whose hash equals the stored one is left out together with its edges: an unchanged estate
    /// stages nothing. A source's rows carry no hash (they clear the stored one; see the upsert).
    func stage(_ inv: Inventory, stored: StoredContentHashes?, on c: PostgresConnection) async throws -> [String: Int] {
        var staged: [String: Int] = [:]
        func each<E: Sendable>(_ kind: StagedKind<E>) async throws {
            var hashes: [Int]? = nil
            var keep = [Bool](repeating: true, count: kind.items.count)
            if let stored {
                let computed = kind.contentHashes()
                let known = stored.byTable[kind.table.table] ?? [:]
                if !known.isEmpty {
                    for (i, item) in kind.items.enumerated() where known[kind.key(item)] == computed[i] { keep[i] = false }
                }
                hashes = computed
            }
            let (items, row, stated) = (kind.items, kind.row, kind.stated)
            let kept = keep
            let withHash = hashes
            try await c.copyRowsInParallel(
                count: items.count, into: "stage_\(kind.table.table)",
                columns: ["key"] + kind.table.columns.map(\.name) + ["stated", "content_hash"], logger: db.logger
            ) { w, range in
                for i in range where kept[i] {
                    row(&w, items[i])
                    w.integer(stated(items[i]).map { Int(Int64(bitPattern: $0)) })
                    w.integer(withHash?[i])
                    w.endRowInBuffer()
                }
            }
            for list in kind.edges {
                var count = 0
                for (i, item) in items.enumerated() where kept[i] { count += list.count(item) }
                staged[list.table.table] = count
                guard count > 0 else { continue }
                let write = list.write
                try await c.copyRowsInParallel(
                    count: items.count, into: "stage_\(list.table.table)",
                    columns: ["owner_key", "target_key", "attribute"], logger: db.logger
                ) { w, range in
                    for i in range where kept[i] { write(&w, items[i]) }
                }
            }
            PhaseTiming.report("staged \(kind.table.table): \(kept.lazy.filter { $0 }.count) of \(items.count)")
        }
        try await each(StagedKind(table: .resources, items: inv.resources, key: \.key, row: InventoryRows.resource, stated: \.stated))
        try await each(StagedKind(table: .datasets, items: inv.datasets, key: \.key, row: InventoryRows.dataset, stated: \.stated))
        try await each(StagedKind(table: .models, items: inv.models, key: \.key, row: InventoryRows.model, stated: \.stated, edges: InventoryRows.modelEdges))
        try await each(
            StagedKind(
                table: .credentials, items: inv.credentials, key: \.key, row: InventoryRows.credential, stated: \.stated,
                edges: InventoryRows.credentialEdges))
        try await each(StagedKind(table: .agents, items: inv.agents, key: \.key, row: InventoryRows.agent, stated: \.stated, edges: InventoryRows.agentEdges))
        return staged
    }
}
