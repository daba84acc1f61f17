import Foundation
import NIOCore
import PostgresNIO
import SleeperCore

/// The queries behind `load`: each table's rows, or a scope's, as binary arrays.
extension ScoringInputLoader {
    struct Edge { var from: Int, to: Int, kind: Int }

    /// What finding the scope already read, or else a fresh read.
    func prefetched<T>(_ value: T?, else read: () async throws -> T) async throws -> T {
        if let value { return value }
        return try await read()
    }

    static func packable(from: Int, to: Int) -> Bool { from < 1 << 31 && to < 1 << 27 }

    /// The largest ids each edge table can hold, from its two ends' entity tables.
    func edgeIDLimits() async throws -> [String: (from: Int, to: Int)] {
        var m = (0, 0, 0, 0, 0)
        for try await row in try await db.client.query(
            """
            SELECT coalesce((SELECT max(id) FROM credentials), 0), coalesce((SELECT max(id) FROM agents), 0),
                   coalesce((SELECT max(id) FROM resources), 0), coalesce((SELECT max(id) FROM models), 0),
                   coalesce((SELECT max(id) FROM datasets), 0)
            """, logger: db.logger
        ).decode((Int, Int, Int, Int, Int).self) { m = row }
        let (credentials, agents, resources, models, datasets) = m
        return [
            "holds": (credentials, agents), "grants": (credentials, resources), "uses_model": (agents, models),
            "delegates_to": (agents, agents), "derived_from": (models, models), "trained_on": (models, datasets),
        ]
    }

    /// The rows of an edge table as (from, to, kind code), each column sent as one binary array
    /// (see `BinaryArray`): decoding 2M single rows through the driver took about 4 s at 1M
    /// credentials, text packed by the server about 1.3 s. `kind` names the enum column and its
    /// values; its code is the position.
    func edges(
        _ table: String, _ fromColumn: String, _ toColumn: String, kind: (column: String, values: [String])? = nil,
        _ ids: [Int]?, split: Bool = false, idLimits: [String: (from: Int, to: Int)]
    ) async throws -> [Edge] {
        let code =
            kind.map { k in
                "CASE t.\(k.column) " + k.values.enumerated().map { "WHEN '\($1)' THEN \($0)" }.joined(separator: " ") + " END"
            } ?? "0"
        let clock = ContinuousClock(), start = clock.now
        let parts = ids == nil && split ? try await halves(table, fromColumn) : [""]
        // One int8 per edge when the ids fit (`from` in 31 bits, `to` in 27, the code in 4): a
        // third of the elements to aggregate, send and read.
        let packed = Self.packable(from: idLimits[table]?.from ?? .max, to: idLimits[table]?.to ?? .max)
        let columns =
            packed
            ? "array_agg((t.\(fromColumn) << 32) | (t.\(toColumn) << 4) | \(code))"
            : "array_agg(t.\(fromColumn)), array_agg(t.\(toColumn)), array_agg(\(code))"
        let chunks = try await withThrowingTaskGroup(of: [Edge].self) { group in
            for part in parts {
                group.addTask {
                    let sql = "SELECT \(columns) \(Self.from(table, fromColumn, ids)) \(part)"
                    let columns = try await arrays(Self.query(sql, ids))
                    var out: [Edge] = []
                    if packed, let values = columns.first {
                        try values.forEach { bytes in
                            guard let bytes else { return }
                            let v = BinaryArray.integer(bytes)
                            out.append(Edge(from: v >> 32, to: (v >> 4) & 0xFFF_FFFF, kind: v & 0xF))
                        }
                    } else if columns.count == 3 {
                        let (f, t, k) = (try columns[0].nonNullIntegers(), try columns[1].nonNullIntegers(), try columns[2].nonNullIntegers())
                        out = f.indices.map { Edge(from: f[$0], to: t[$0], kind: k[$0]) }
                    }
                    return out
                }
            }
            var all: [[Edge]] = []
            for try await chunk in group { all.append(chunk) }
            return all
        }
        let out = chunks.count == 1 ? chunks[0] : chunks.flatMap { $0 }
        PhaseTiming.report("\(table): \(out.count) edges in \(clock.now - start)")
        return out
    }

    func datasets(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Dataset]) {
        let c = try await arrays(Self.query("SELECT array_agg(t.id), array_agg(t.provenance), array_agg(t.key) \(Self.from("datasets", "id", only))", only))
        guard c.count == 3 else { return ([], []) }
        let (provenance, key) = (try c[1].strings(), try c[2].strings())
        return Self.byID(try c[0].nonNullIntegers(), try provenance.indices.map { .init(key: key[$0] ?? "", provenance: try rowValue(DatasetProvenance.self, provenance[$0] ?? "")) })
    }

    func models(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Model]) {
        let c = try await arrays(
            Self.query(
                """
                SELECT array_agg(t.id), array_agg(t.key), array_agg(t.supplier), array_agg(t.third_party), array_agg(t.lineage_verified),
                       array_agg(t.training_data_declared), array_agg(t.digest IS NOT NULL), array_agg(t.signed), array_agg(t.serialization),
                       array_agg((SELECT o.relation || ' ' || o.declared_by FROM organisation_suppliers o WHERE lower(o.name) = lower(t.supplier)))
                \(Self.from("models", "id", only))
                """, only))
        guard c.count == 10 else { return ([], []) }
        let declared = try c[9].strings()
        let (key, supplier, thirdParty, verified) = (try c[1].strings(), try c[2].strings(), try c[3].bools(), try c[4].bools())
        let (dataDeclared, hasDigest, signed) = (try c[5].bools(), try c[6].bools(), try c[7].bools())
        let serialization = try c[8].strings().map { try rowValue(Serialization.self, $0 ?? "") }
        return Self.byID(
            try c[0].nonNullIntegers(),
            key.indices.map { i in
                var m = ScoringInput.Model(
                    key: key[i] ?? "", supplier: supplier[i], thirdParty: thirdParty[i], lineageVerified: verified[i],
                    trainingDataDeclared: dataDeclared[i], hasDigest: hasDigest[i], signed: signed[i], serialization: serialization[i])
                if let d = declared[i], let space = d.firstIndex(of: " ") {
                    m.declaredSupplier = (String(d[..<space]), String(d[d.index(after: space)...]))
                }
                return m
            })
    }

    func agents(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Agent]) {
        let c = try await arrays(Self.query("SELECT array_agg(t.id), array_agg(t.key), array_agg(t.input_trust) \(Self.from("agents", "id", only))", only))
        guard c.count == 3 else { return ([], []) }
        let (key, trust) = (try c[1].strings(), try c[2].strings())
        return Self.byID(try c[0].nonNullIntegers(), try key.indices.map { .init(key: key[$0] ?? "", inputTrust: try rowValue(InputTrust.self, trust[$0] ?? "")) })
    }

    func resources(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Resource]) {
        let c = try await arrays(Self.query("SELECT array_agg(t.id), array_agg(t.key), array_agg(t.tier::int) \(Self.from("resources", "id", only))", only))
        guard c.count == 3 else { return ([], []) }
        let (key, tier) = (try c[1].strings(), try c[2].nonNullIntegers())
        return Self.byID(try c[0].nonNullIntegers(), try key.indices.map { .init(key: key[$0] ?? "", tier: try rowValue(ResourceTier.self, tier[$0])) })
    }

    /// Two `WHERE` clauses splitting a whole table by id, so that its largest queries run on two
    /// connections and the server works on both cores.
    func halves(_ table: String, _ column: String) async throws -> [String] {
        var bounds: (Int?, Int?) = (nil, nil)
        for try await row in try await db.client.query(PostgresQuery(unsafeSQL: "SELECT min(\(column)), max(\(column)) FROM \(table)"), logger: db.logger)
            .decode((Int?, Int?).self)
        { bounds = row }
        guard let low = bounds.0, let high = bounds.1, high > low else { return [""] }
        let middle = low + (high - low) / 2
        return ["WHERE t.\(column) <= \(middle)", "WHERE t.\(column) > \(middle)"]
    }

    /// Credentials as one binary array per column, like the edges (a million ten-column rows took
    /// about 3 s to decode one by one). The numbers and the texts come in two queries, which
    /// the server answers on both cores; each carries the ids, because two concurrent scans of
    /// one table need not return its rows in the same order.
    func credentials(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Credential]) {
        let kinds = CredentialKind.allCases
        let kindCode = "CASE t.kind " + kinds.enumerated().map { "WHEN '\($1.rawValue)' THEN \($0)" }.joined(separator: " ") + " END"
        let from = Self.from("credentials", "id", only)
        // For the whole table the texts come in a query of their own, on another connection; for a
        // few thousand credentials one query (one index probe each) costs less.
        let together = only != nil
        async let texts = together ? [] : arrays(Self.query("SELECT array_agg(t.id), array_agg(t.key), array_agg(t.owner) \(from)", only))
        // The widest query, in halves on two connections when it covers the whole table.
        let parts = only == nil ? try await halves("credentials", "id") : [""]
        let numbers = try await withThrowingTaskGroup(of: ([Int], [ScoringInput.Credential]).self) { group in
            for part in parts {
                group.addTask {
                    let columns = try await arrays(
                        Self.query(
                            """
                            SELECT array_agg(t.id), array_agg(\(kindCode)), array_agg(t.ttl_seconds), array_agg(t.exposed),
                                   array_agg(t.created_at), array_agg(t.last_rotated_at), array_agg(t.expires_at), array_agg(t.last_used_at),
                                   array_agg(t.state = 'active')
                                   \(together ? ", array_agg(t.key), array_agg(t.owner)" : "")
                            \(from) \(part)
                            """, only))
                    guard !columns.isEmpty else { return ([], []) }
                    let ids = try columns[0].nonNullIntegers()
                    let kind = try columns[1].nonNullIntegers(), ttl = try columns[2].integers(), exposed = try columns[3].bools()
                    let created = try columns[4].dates(), rotated = try columns[5].dates(), expires = try columns[6].dates(), used = try columns[7].dates()
                    let live = try columns[8].bools()
                    let (keys, owners) = together ? (try columns[9].strings(), try columns[10].strings()) : ([], [])
                    let credentials = ids.indices.map { i in
                        var c = ScoringInput.Credential(
                            key: together ? keys[i] ?? "" : "", kind: kinds[kind[i]], owner: together ? owners[i] : nil,
                            createdAt: created[i], lastRotatedAt: rotated[i],
                            expiresAt: expires[i], lastUsedAt: used[i], ttlSeconds: ttl[i], exposed: exposed[i])
                        c.live = live[i]
                        return c
                    }
                    return (ids, credentials)
                }
            }
            var all: [([Int], [ScoringInput.Credential])] = []
            for try await part in group { all.append(part) }
            return all
        }
        var ids: [Int] = [], credentials: [ScoringInput.Credential] = []
        for (partIDs, partCredentials) in numbers {
            ids += partIDs
            credentials += partCredentials
        }
        let textColumns = try await texts
        if textColumns.count == 3 {
            let (textIDs, keys, owners) = (try textColumns[0].nonNullIntegers(), try textColumns[1].strings(), try textColumns[2].strings())
            let position = Self.index(ids)
            for (j, id) in textIDs.enumerated() {
                guard let i = position[id] else { continue }
                credentials[i].key = keys[j] ?? ""
                credentials[i].owner = owners[j]
            }
        }
        return Self.byID(ids, credentials)
    }

    /// The recalls standing at `asOf`: made by then and not released by then.
    func standingRecalls(asOf: Date) async throws -> [(kind: String, key: String, id: Int)] {
        var out: [(kind: String, key: String, id: Int)] = []
        let sql: PostgresQuery = """
            SELECT subject_kind, subject_key, id FROM recalls
            WHERE recalled_at <= \(asOf) AND (released_at IS NULL OR released_at > \(asOf))
            """
        for try await (kind, key, id) in try await db.client.query(sql, logger: db.logger).decode((String, String, Int).self) {
            out.append((kind, key, id))
        }
        return out
    }

    /// Validity of each model and agent control that affects scores, from the same status query
    /// as gaps and coverage: 1 valid, fading to 0 over the grace period, 0 failed or stale.
    func controlStates(asOf: Date, weights: ScoringWeights, models: [Int]?, agents: [Int]?, datasets: [Int]? = nil) async throws
        -> [(kind: String, key: String, control: String, state: ScoringInput.ControlState)]
    {
        let controls = weights.scoringControls
        let scoped = models != nil || agents != nil
        // `= ANY` here: joined with `unnest`, the planner hashed all 100,000 agents for 2,600 of them.
        let subjects: SQLFragment =
            scoped
            ? """
            SELECT 'model'::text AS kind, m.key, m.owner FROM models m WHERE m.id = ANY(\(models ?? [])::int8[])
            UNION ALL SELECT 'agent', a.key, a.owner FROM agents a WHERE a.id = ANY(\(agents ?? [])::int8[])
            UNION ALL SELECT 'dataset', d.key, d.owner FROM datasets d WHERE d.id = ANY(\(datasets ?? [])::int8[])
            """ : "SELECT 'model'::text AS kind, key, owner FROM models UNION ALL SELECT 'agent', key, owner FROM agents UNION ALL SELECT 'dataset', key, owner FROM datasets"
        let sql: SQLFragment = """
            WITH \(EvidenceStatusSQL.statusCTE(subjects: subjects, asOf: asOf))
            SELECT st.kind, st.key, st.control_id, st.status, st.evidence_id, st.expires_at,
                   CASE st.status
                       WHEN 'valid' THEN 1.0
                       WHEN 'expired-in-grace' THEN greatest(0, 1 - extract(epoch FROM (\(asOf) - st.expires_at)) / (c.grace_days * 86400.0))
                       ELSE 0.0
                   END::float8,
                   CASE WHEN st.status = 'failed' THEN (SELECT e.covered_files FROM evidence e WHERE e.id = st.evidence_id) ELSE '{}' END
            FROM status st JOIN controls c ON c.id = st.control_id
            WHERE st.evidence_id IS NOT NULL AND st.control_id = ANY(\(controls))
            """
        var out: [(kind: String, key: String, control: String, state: ScoringInput.ControlState)] = []
        for try await (kind, key, control, status, evidence, expires, validity, files) in try await db.client.query(sql.query, logger: db.logger)
            .decode((String, String, String, EvidenceStatus, Int?, Date?, Double, [String]).self)
        {
            out.append(
                (
                    kind, key, control,
                    ScoringInput.ControlState(
                        validity: validity, evidenceID: evidence, expiresAt: expires, failed: status == .failed,
                        failedFiles: files)
                ))
        }
        return out
    }
}
