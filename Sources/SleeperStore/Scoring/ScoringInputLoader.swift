import Foundation
import NIOCore
import PostgresNIO
import SleeperCore

/// Reads everything the scoring model needs, one set-based query per table, into `ScoringInput`.
public struct ScoringInputLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// The part of the estate some credentials' scores depend on: the credentials, the agents
    /// holding them and every agent delegating to those (transitively), the models those agents
    /// use and all their ancestors, those models' datasets, and the credentials' resources. The
    /// scores of the credentials computed on this part equal their scores on the whole estate,
    /// because every input to a score lies upstream of it.
    public struct Scope: Sendable {
        public var credentials: [Int], agents: [Int], models: [Int], datasets: [Int], resources: [Int]
        /// Models (database id → key and L*) whose scores come from a stored run: neither their
        /// lineage nor their own data is read.
        public var carried: [Int: (key: String, lStar: Double)] = [:]
        /// Agents at the edge of a bounded scope may lack some delegators, which the scores of its
        /// credentials do not need (see `boundedScope`).
        public var bounded = false
        /// Edges finding the scope already read: the credentials' holds and grants, the agents' models.
        var holds: [Edge]?, grants: [Edge]?, uses: [Edge]?
        /// The credentials' ids and rows, when finding the scope already read them.
        var credentialRows: ([Int], [ScoringInput.Credential])?
    }

    /// The upstream scope of the credentials with these keys (unknown keys are left out).
    public func upstreamScope(credentialKeys: [String]) async throws -> Scope {
        let ids = try await idList("SELECT id FROM credentials WHERE key = ANY($1)", credentialKeys)
        return try await upstreamScope(credentialIDs: ids)
    }

    /// Four small queries rather than one: with the recursive closures referenced more than once
    /// PostgreSQL took 160 ms for what these do in 40 (5,000 credentials at 1M). Ids are joined
    /// with `unnest`, not `= ANY($1)`, which made the planner scan all of holds in parallel.
    public func upstreamScope(credentialIDs: [Int], agents extraAgents: [Int] = [], models extraModels: [Int] = []) async throws -> Scope {
        async let resources = idList("""
            SELECT DISTINCT g.resource_id FROM unnest($1::int8[]) c(id) JOIN grants g ON g.credential_id = c.id
            """, credentialIDs)
        let agents = try await idList("""
            WITH RECURSIVE up_agents(id) AS (
                SELECT h.agent_id FROM unnest($1::int8[]) c(id) JOIN holds h ON h.credential_id = c.id
                UNION
                SELECT unnest($2::int8[])
                UNION
                SELECT d.agent_id FROM delegates_to d JOIN up_agents u ON d.delegate_id = u.id
            )
            SELECT id FROM up_agents ORDER BY id
            """, credentialIDs, extraAgents)
        let models = try await idList("""
            WITH RECURSIVE up_models(id) AS (
                SELECT u.model_id FROM unnest($1::int8[]) a(id) JOIN uses_model u ON u.agent_id = a.id
                UNION
                SELECT unnest($2::int8[])
                UNION
                SELECT p.parent_id FROM derived_from p JOIN up_models m ON p.model_id = m.id
            )
            SELECT id FROM up_models ORDER BY id
            """, agents, extraModels)
        let datasets = try await idList("""
            SELECT DISTINCT t.dataset_id FROM unnest($1::int8[]) m(id) JOIN trained_on t ON t.model_id = m.id
            """, models)
        return Scope(credentials: credentialIDs.sorted(), agents: agents, models: models, datasets: datasets, resources: try await resources)
    }

    /// The part of the estate that rescoring `credentials` needs when model scores are stored:
    /// the models in `recompute` with their parents, datasets and evidence; the agents holding the
    /// credentials and those delegating to them within the delegation rounds (a credential's score
    /// reaches no further up the delegation graph); and every other model those agents use, or
    /// that a recomputed model derives from, with its L* from `storedModels` (SQL for a run's
    /// models). Nil when a model it needs is not among the stored ones.
    public func boundedScope(credentialIDs: [Int], recompute: [Int], delegationRounds: Int, storedModels: String) async throws -> Scope? {
        // The credentials' rows, holds and grants are read once, here, while the rest of the scope
        // is worked out, and handed on to `load`.
        async let credentialRows = credentials(credentialIDs)
        let limits = try await edgeIDLimits()
        async let grantEdges = edges("grants", "credential_id", "resource_id", kind: ("action", GrantAction.allCases.map(\.rawValue)), credentialIDs, idLimits: limits)
        async let datasets = idList("""
            SELECT DISTINCT t.dataset_id FROM unnest($1::int8[]) m(id) JOIN trained_on t ON t.model_id = m.id
            """, recompute)
        let holdEdges = try await edges("holds", "credential_id", "agent_id", kind: ("delivery", Delivery.allCases.map(\.rawValue)), credentialIDs, idLimits: limits)
        var binds = PostgresBindings()
        binds.append(Array(Set(holdEdges.map(\.to))))
        binds.append(delegationRounds)
        let agents = try await arrays(PostgresQuery(unsafeSQL: """
            WITH RECURSIVE up(id, hop) AS (
                SELECT unnest($1::int8[]), 0
                UNION
                SELECT d.agent_id, u.hop + 1 FROM up u JOIN delegates_to d ON d.delegate_id = u.id WHERE u.hop < $2
            )
            SELECT array_agg(DISTINCT id) FROM up
            """, binds: binds)).first?.nonNullIntegers() ?? []
        async let parents = idList("SELECT p.parent_id FROM unnest($1::int8[]) m(id) JOIN derived_from p ON p.model_id = m.id", recompute)
        let useEdges = try await edges("uses_model", "agent_id", "model_id", agents, idLimits: limits)
        let models = Array(Set(useEdges.map(\.to)).union(recompute).union(try await parents)).sorted()
        let recomputed = Set(recompute)
        let needed = models.filter { !recomputed.contains($0) }
        var carried: [Int: (key: String, lStar: Double)] = [:]
        var b = PostgresBindings()
        b.append(needed)
        let stored = try await arrays(PostgresQuery(unsafeSQL: """
            SELECT array_agg(s.model_id), array_agg(s.model_key), array_agg(s.l_star)
            FROM unnest($1::int8[]) n(id) JOIN \(storedModels) s ON s.model_id = n.id
            """, binds: b))
        if stored.count == 3 {
            let (id, key, lStar) = (try stored[0].nonNullIntegers(), try stored[1].strings(), try stored[2].doubles())
            for i in id.indices { carried[id[i]] = (key[i] ?? "", lStar[i]) }
        }
        guard carried.count == needed.count else { return nil }
        let grants = try await grantEdges
        return Scope(credentials: credentialIDs.sorted(), agents: agents, models: models, datasets: try await datasets,
                     resources: Array(Set(grants.map(\.to))).sorted(), carried: carried, bounded: true,
                     holds: holdEdges, grants: grants, uses: useEdges, credentialRows: try await credentialRows)
    }

    /// What a model's or an agent's blast radius needs: every model derived from it, every agent
    /// it reaches, the credentials they hold, and the upstream of all of those.
    public func downstreamScope(of subject: Subject) async throws -> Scope {
        let model = subject.kind == .model ? [subject.key] : [], agent = subject.kind == .agent ? [subject.key] : []
        var binds = PostgresBindings()
        binds.append(model)
        binds.append(agent)
        var models: [Int] = [], agents: [Int] = [], credentials: [Int] = []
        for try await (kind, id) in try await db.client.query(PostgresQuery(unsafeSQL: """
            WITH RECURSIVE
            down_models(id) AS (
                SELECT id FROM models WHERE key = ANY($1)
                UNION SELECT d.model_id FROM derived_from d JOIN down_models m ON d.parent_id = m.id
            ),
            down_agents(id) AS (
                SELECT u.agent_id FROM uses_model u JOIN down_models m ON u.model_id = m.id
                UNION SELECT id FROM agents WHERE key = ANY($2)
                UNION SELECT x.delegate_id FROM delegates_to x JOIN down_agents a ON x.agent_id = a.id
            )
            SELECT 'm', id FROM down_models
            UNION ALL SELECT 'a', id FROM down_agents
            UNION ALL SELECT DISTINCT 'c', h.credential_id FROM holds h JOIN down_agents a ON h.agent_id = a.id
            """, binds: binds), logger: db.logger).decode((String, Int).self) {
            switch kind { case "m": models.append(id); case "a": agents.append(id); default: credentials.append(id) }
        }
        return try await upstreamScope(credentialIDs: credentials, agents: agents, models: models)
    }

    /// The ids a query returns, sorted; sent as one array (rows decoded one by one cost about
    /// 5 µs each, which a few thousand ids made noticeable in a rescore).
    private func idList<T: PostgresArrayEncodable & PostgresNonThrowingEncodable>(_ sql: String, _ ids: [T], _ more: [Int]? = nil) async throws -> [Int] {
        var binds = PostgresBindings()
        binds.append(ids)
        if let more { binds.append(more) }
        let columns = try await arrays(PostgresQuery(unsafeSQL: "SELECT array_agg(q.id) FROM (\(sql)) q(id)", binds: binds))
        return try (columns.first?.nonNullIntegers() ?? []).sorted()
    }

    /// The one row of a query whose columns are all `array_agg`s; empty when they aggregated nothing.
    private func arrays(_ query: PostgresQuery) async throws -> [BinaryArray] {
        for try await row in try await db.client.query(query, logger: db.logger) {
            let cells = Array(row).map { BinaryArray($0.bytes) }
            if let columns = cells as? [BinaryArray] { return columns }
        }
        return []
    }

    /// Rows made from columns, in id order as the input expects.
    static func byID<T>(_ ids: [Int], _ rows: [T]) -> ([Int], [T]) {
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        return (order.map { ids[$0] }, order.map { rows[$0] })
    }

    /// The database ids of the input's credentials and models, in the input's order, for storing results.
    public struct DatabaseIDs: Sendable {
        public var credentials: [Int], models: [Int]
    }

    /// The input, plus the database ids of its credentials and models; the whole estate, or only
    /// `scope`. The queries run concurrently on separate connections: the server reads while we decode.
    public func load(asOf: Date, weights: ScoringWeights, scope: Scope? = nil) async throws -> (ScoringInput, ids: DatabaseIDs) {
        let limits = try await edgeIDLimits()
        // The largest first: the pool serves queries in the order they ask.
        async let credentialRows = prefetchedCredentials(scope)
        async let grants = prefetched(scope?.grants) {
            try await edges("grants", "credential_id", "resource_id", kind: ("action", GrantAction.allCases.map(\.rawValue)), scope?.credentials, split: true, idLimits: limits)
        }
        async let holds = prefetched(scope?.holds) {
            try await edges("holds", "credential_id", "agent_id", kind: ("delivery", Delivery.allCases.map(\.rawValue)), scope?.credentials, split: true, idLimits: limits)
        }
        async let datasetRows = datasets(scope?.datasets)
        let ownModels = scope.map { s in s.carried.isEmpty ? s.models : s.models.filter { s.carried[$0] == nil } }
        async let modelRows = models(ownModels)
        async let agentRows = agents(scope?.agents)
        async let resourceRows = resources(scope?.resources)
        async let lineage = edges("derived_from", "model_id", "parent_id", kind: ("relation", DerivationRelation.allCases.map(\.rawValue)), ownModels, idLimits: limits)
        async let training = edges("trained_on", "model_id", "dataset_id", ownModels, idLimits: limits)
        async let uses = prefetched(scope?.uses) { try await edges("uses_model", "agent_id", "model_id", scope?.agents, idLimits: limits) }
        async let controlRows = controlStates(asOf: asOf, weights: weights, models: ownModels, agents: scope?.agents)
        async let delegation = edges("delegates_to", "delegate_id", "agent_id", scope?.agents, idLimits: limits)

        let clock = ContinuousClock(), begun = clock.now
        var input = ScoringInput(asOf: asOf)
        let (datasetIDs, datasetList) = try await datasetRows
        var (modelIDs, modelList) = try await modelRows
        // Carried models join the loaded ones with only what their descendants read, all in id
        // order as in a full run: products over an agent's models then run in the same order.
        if let carried = scope?.carried, !carried.isEmpty {
            for (id, stored) in carried {
                modelIDs.append(id)
                var model = ScoringInput.Model(key: stored.key)
                model.carriedLStar = stored.lStar
                modelList.append(model)
            }
            let order = modelIDs.indices.sorted { modelIDs[$0] < modelIDs[$1] }
            (modelIDs, modelList) = (order.map { modelIDs[$0] }, order.map { modelList[$0] })
        }
        let (agentIDs, agentList) = try await agentRows
        PhaseTiming.report("agents \(clock.now - begun)")
        let (resourceIDs, resourceList) = try await resourceRows
        let (credentialIDs, credentialList) = try await credentialRows
        PhaseTiming.report("credentials \(clock.now - begun)")
        input.datasets = datasetList
        input.models = modelList
        input.agents = agentList
        input.resources = resourceList
        input.credentials = credentialList
        PhaseTiming.report("entities \(clock.now - begun)")
        let datasetIndex = Self.index(datasetIDs), modelIndex = Self.index(modelIDs), agentIndex = Self.index(agentIDs)
        let resourceIndex = Self.index(resourceIDs), credentialIndex = Self.index(credentialIDs)

        PhaseTiming.report("indexes \(clock.now - begun)")
        let relations = DerivationRelation.allCases, deliveries = Delivery.allCases, actions = GrantAction.allCases
        for e in try await lineage {
            input.models[modelIndex[e.from]!].parents.append((modelIndex[e.to]!, relations[e.kind]))
        }
        for e in try await training { input.models[modelIndex[e.from]!].datasets.append(datasetIndex[e.to]!) }
        for e in try await uses { input.agents[agentIndex[e.from]!].models.append(modelIndex[e.to]!) }
        let bounded = scope?.bounded ?? false
        for e in try await delegation {
            guard let delegator = agentIndex[e.to] else {
                if bounded { continue }   // beyond the delegation rounds the scope covers
                throw StoreError.invalidInput("delegation from agent id \(e.to), outside the loaded scope")
            }
            input.agents[agentIndex[e.from]!].delegators.append(delegator)
        }

        // Holders and grants grouped on two cores, each credential's list built in one allocation.
        let (holdEdges, grantEdges) = (try await holds, try await grants)
        let count = input.credentials.count
        // Sorted as they are built: edges arrive in no particular order, and products must run in
        // the same order every time.
        async let holderLists = Self.grouped(holdEdges, count: count, by: credentialIndex, { [agentIndex] e in
            (agent: agentIndex[e.to]!, delivery: deliveries[e.kind])
        }, sortedBy: { $0.agent < $1.agent })
        async let grantLists = Self.grouped(grantEdges, count: count, by: credentialIndex, { [resourceIndex] e in
            (resource: resourceIndex[e.to]!, action: actions[e.kind])
        }, sortedBy: { ($0.resource, $0.action.rawValue) < ($1.resource, $1.action.rawValue) })
        do {
            // In a scope of their own, so that the lists have one owner when they are sorted below.
            let (h, g) = await (holderLists, grantLists)
            for i in input.credentials.indices {
                input.credentials[i].holders = h[i]
                input.credentials[i].grants = g[i]
            }
        }
        PhaseTiming.report("edges attached \(clock.now - begun)")
        // Edges arrive in no particular order; sort so that products run in the same order every time.
        for i in input.models.indices {
            input.models[i].parents.sort { $0.model < $1.model }
            input.models[i].datasets.sort()
        }
        for i in input.agents.indices {
            input.agents[i].models.sort()
            input.agents[i].delegators.sort()
        }
        PhaseTiming.report("edges sorted \(clock.now - begun)")
        let t = clock.now
        let modelPositions = Dictionary(uniqueKeysWithValues: input.models.enumerated().map { ($1.key, $0) })
        let agentPositions = Dictionary(uniqueKeysWithValues: input.agents.enumerated().map { ($1.key, $0) })
        let controlStateRows = try await controlRows
        PhaseTiming.report("control rows \(clock.now - begun)")
        for row in controlStateRows {
            if row.kind == "model", let i = modelPositions[row.key], input.models[i].carriedLStar == nil { input.models[i].controls[row.control] = row.state }
            if row.kind == "agent", let i = agentPositions[row.key] { input.agents[i].controls[row.control] = row.state }
        }
        PhaseTiming.report("control states \(clock.now - t)")
        return (input, DatabaseIDs(credentials: credentialIDs, models: modelIDs))
    }

    /// Database id → position. Identity ids are nearly dense, so a flat array serves where it
    /// can: a million dictionary lookups per edge table cost about a second.
    struct IDIndex: Sendable {
        let base: Int
        let dense: [Int32]
        let sparse: [Int: Int]

        init(_ ids: [Int]) {
            let low = ids.min() ?? 0, high = ids.max() ?? -1
            if high - low < max(4 * ids.count, 1024) {
                var dense = [Int32](repeating: -1, count: high - low + 1)
                for (i, id) in ids.enumerated() { dense[id - low] = Int32(i) }
                (base, self.dense, sparse) = (low, dense, [:])
            } else {
                var sparse: [Int: Int] = [:]
                sparse.reserveCapacity(ids.count)
                for (i, id) in ids.enumerated() { sparse[id] = i }
                (base, dense, self.sparse) = (low, [], sparse)
            }
        }

        subscript(id: Int) -> Int? {
            if dense.isEmpty { return sparse[id] }
            let k = id - base
            guard k >= 0, k < dense.count, dense[k] >= 0 else { return nil }
            return Int(dense[k])
        }
    }

    static func index(_ ids: [Int]) -> IDIndex { IDIndex(ids) }

    /// The edges' elements grouped by the position of their `from` end: a counting pass, then each
    /// list made in one allocation (appending to a million small arrays reallocated most of them).
    static func grouped<T: Sendable>(_ edges: [Edge], count: Int, by index: IDIndex, _ element: @Sendable (Edge) -> T,
                                     sortedBy areInIncreasingOrder: @Sendable (T, T) -> Bool) async -> [[T]] {
        var position = [Int32](repeating: 0, count: edges.count), start = [Int](repeating: 0, count: count + 1)
        for (k, e) in edges.enumerated() {
            let p = index[e.from]!
            position[k] = Int32(p)
            start[p + 1] += 1
        }
        for i in 0..<count { start[i + 1] += start[i] }
        var next = start, order = [Int32](repeating: 0, count: edges.count)
        for k in edges.indices {
            let p = Int(position[k])
            order[next[p]] = Int32(k)
            next[p] += 1
        }
        return (0..<count).map { i in
            Array(unsafeUninitializedCapacity: start[i + 1] - start[i]) { buffer, initialized in
                for (j, k) in (start[i]..<start[i + 1]).enumerated() { (buffer.baseAddress! + j).initialize(to: element(edges[Int(order[k])])) }
                initialized = start[i + 1] - start[i]
                buffer[0..<initialized].sort(by: areInIncreasingOrder)
            }
        }
    }

    /// `FROM table t`, or only the rows whose `column` is one of `ids`, joined with `unnest`
    /// (`= ANY($1)` made the planner scan whole tables for a few thousand ids).
    static func from(_ table: String, _ column: String, _ ids: [Int]?) -> String {
        ids == nil ? "FROM \(table) t" : "FROM unnest($1::int8[]) s(id) JOIN \(table) t ON t.\(column) = s.id"
    }

    static func query(_ sql: String, _ ids: [Int]?) -> PostgresQuery {
        var binds = PostgresBindings()
        if let ids { binds.append(ids) }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    struct Edge { var from: Int, to: Int, kind: Int }

    /// The rows of an edge table as (from, to, kind code), each column sent as one binary array
    /// (see `BinaryArray`): decoding 2M single rows through the driver took about 4 s at 1M
    /// credentials, text packed by the server about 1.3 s. `kind` names the enum column and its
    /// values; its code is the position.
    private func prefetchedCredentials(_ scope: Scope?) async throws -> ([Int], [ScoringInput.Credential]) {
        if let rows = scope?.credentialRows { return rows }
        return try await credentials(scope?.credentials)
    }

    private func prefetched(_ edges: [Edge]?, else read: () async throws -> [Edge]) async throws -> [Edge] {
        if let edges { return edges }
        return try await read()
    }

    static func packable(from: Int, to: Int) -> Bool { from < 1 << 31 && to < 1 << 27 }

    /// The largest ids each edge table can hold, from its two ends' entity tables.
    private func edgeIDLimits() async throws -> [String: (from: Int, to: Int)] {
        var m = (0, 0, 0, 0, 0)
        for try await row in try await db.client.query("""
            SELECT coalesce((SELECT max(id) FROM credentials), 0), coalesce((SELECT max(id) FROM agents), 0),
                   coalesce((SELECT max(id) FROM resources), 0), coalesce((SELECT max(id) FROM models), 0),
                   coalesce((SELECT max(id) FROM datasets), 0)
            """, logger: db.logger).decode((Int, Int, Int, Int, Int).self) { m = row }
        let (credentials, agents, resources, models, datasets) = m
        return ["holds": (credentials, agents), "grants": (credentials, resources), "uses_model": (agents, models),
                "delegates_to": (agents, agents), "derived_from": (models, models), "trained_on": (models, datasets)]
    }

    private func edges(_ table: String, _ fromColumn: String, _ toColumn: String, kind: (column: String, values: [String])? = nil,
                       _ ids: [Int]?, split: Bool = false, idLimits: [String: (from: Int, to: Int)]) async throws -> [Edge] {
        let code = kind.map { k in
            "CASE t.\(k.column) " + k.values.enumerated().map { "WHEN '\($1)' THEN \($0)" }.joined(separator: " ") + " END"
        } ?? "0"
        let clock = ContinuousClock(), start = clock.now
        let parts = ids == nil && split ? try await halves(table, fromColumn) : [""]
        // One int8 per edge when the ids fit (`from` in 31 bits, `to` in 27, the code in 4): a
        // third of the elements to aggregate, send and read.
        let packed = Self.packable(from: idLimits[table]?.from ?? .max, to: idLimits[table]?.to ?? .max)
        let columns = packed ? "array_agg((t.\(fromColumn) << 32) | (t.\(toColumn) << 4) | \(code))"
            : "array_agg(t.\(fromColumn)), array_agg(t.\(toColumn)), array_agg(\(code))"
        let chunks = try await withThrowingTaskGroup(of: [Edge].self) { group in
            for part in parts {
                group.addTask {
                    let sql = "SELECT \(columns) \(Self.from(table, fromColumn, ids)) \(part)"
                    var out: [Edge] = []
                    for try await row in try await db.client.query(Self.query(sql, ids), logger: db.logger) {
                        let cells = Array(row)
                        if packed {
                            guard let values = BinaryArray(cells[0].bytes) else { continue }
                            try values.forEach { bytes in
                                guard let bytes else { return }
                                let v = BinaryArray.integer(bytes)
                                out.append(Edge(from: v >> 32, to: (v >> 4) & 0xFFF_FFFF, kind: v & 0xF))
                            }
                            continue
                        }
                        guard let from = BinaryArray(cells[0].bytes), let to = BinaryArray(cells[1].bytes), let kinds = BinaryArray(cells[2].bytes) else { continue }
                        let (f, t, k) = (try from.nonNullIntegers(), try to.nonNullIntegers(), try kinds.nonNullIntegers())
                        out.reserveCapacity(f.count)
                        for i in f.indices { out.append(Edge(from: f[i], to: t[i], kind: k[i])) }
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

    private func datasets(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Dataset]) {
        let c = try await arrays(Self.query("SELECT array_agg(t.id), array_agg(t.provenance), array_agg(t.key) \(Self.from("datasets", "id", only))", only))
        guard c.count == 3 else { return ([], []) }
        let (provenance, key) = (try c[1].strings(), try c[2].strings())
        return Self.byID(try c[0].nonNullIntegers(), provenance.indices.map { .init(key: key[$0] ?? "", provenance: DatasetProvenance(rawValue: provenance[$0] ?? "")!) })
    }

    private func models(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Model]) {
        let c = try await arrays(Self.query("""
            SELECT array_agg(t.id), array_agg(t.key), array_agg(t.supplier), array_agg(t.third_party), array_agg(t.lineage_verified),
                   array_agg(t.training_data_declared), array_agg(t.digest IS NOT NULL), array_agg(t.signed), array_agg(t.serialization)
            \(Self.from("models", "id", only))
            """, only))
        guard c.count == 9 else { return ([], []) }
        let (key, supplier, thirdParty, verified) = (try c[1].strings(), try c[2].strings(), try c[3].bools(), try c[4].bools())
        let (declared, hasDigest, signed, serialization) = (try c[5].bools(), try c[6].bools(), try c[7].bools(), try c[8].strings())
        return Self.byID(try c[0].nonNullIntegers(), key.indices.map { i in
            ScoringInput.Model(key: key[i] ?? "", supplier: supplier[i], thirdParty: thirdParty[i], lineageVerified: verified[i],
                               trainingDataDeclared: declared[i], hasDigest: hasDigest[i], signed: signed[i], serialization: serialization[i] ?? "")
        })
    }

    private func agents(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Agent]) {
        let c = try await arrays(Self.query("SELECT array_agg(t.id), array_agg(t.key), array_agg(t.input_trust) \(Self.from("agents", "id", only))", only))
        guard c.count == 3 else { return ([], []) }
        let (key, trust) = (try c[1].strings(), try c[2].strings())
        return Self.byID(try c[0].nonNullIntegers(), key.indices.map { .init(key: key[$0] ?? "", inputTrust: InputTrust(rawValue: trust[$0] ?? "")!) })
    }

    private func resources(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Resource]) {
        let c = try await arrays(Self.query("SELECT array_agg(t.id), array_agg(t.key), array_agg(t.tier::int) \(Self.from("resources", "id", only))", only))
        guard c.count == 3 else { return ([], []) }
        let (key, tier) = (try c[1].strings(), try c[2].nonNullIntegers())
        return Self.byID(try c[0].nonNullIntegers(), key.indices.map { .init(key: key[$0] ?? "", tier: ResourceTier(rawValue: tier[$0])!) })
    }

    /// Two `WHERE` clauses splitting a whole table by id, so that its largest queries run on two
    /// connections and the server works on both cores.
    private func halves(_ table: String, _ column: String) async throws -> [String] {
        var bounds: (Int?, Int?) = (nil, nil)
        for try await row in try await db.client.query(PostgresQuery(unsafeSQL: "SELECT min(\(column)), max(\(column)) FROM \(table)"), logger: db.logger)
            .decode((Int?, Int?).self) { bounds = row }
        guard let low = bounds.0, let high = bounds.1, high > low else { return [""] }
        let middle = low + (high - low) / 2
        return ["WHERE t.\(column) <= \(middle)", "WHERE t.\(column) > \(middle)"]
    }

    /// Credentials as one binary array per column, like the edges (a million ten-column rows took
    /// about 3 s to decode one by one). The numbers and the texts come in two queries, which
    /// the server answers on both cores; each carries the ids, because two concurrent scans of
    /// one table need not return its rows in the same order.
    private func credentials(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Credential]) {
        let kinds = CredentialKind.allCases
        let kindCode = "CASE t.kind " + kinds.enumerated().map { "WHEN '\($1.rawValue)' THEN \($0)" }.joined(separator: " ") + " END"
        let from = Self.from("credentials", "id", only)
        // For the whole table the texts come in a query of their own, on another connection; for a
        // few thousand credentials one query (one index probe each) costs less.
        let together = only != nil
        async let texts: ([Int], [String?], [String?]) = {
            var out: ([Int], [String?], [String?]) = ([], [], [])
            guard !together else { return out }
            for try await row in try await db.client.query(Self.query("SELECT array_agg(t.id), array_agg(t.key), array_agg(t.owner) \(from)", only), logger: db.logger) {
                let cells = Array(row)
                guard let ids = BinaryArray(cells[0].bytes), let keys = BinaryArray(cells[1].bytes), let owners = BinaryArray(cells[2].bytes) else { continue }
                out = (try ids.nonNullIntegers(), try keys.strings(), try owners.strings())
            }
            return out
        }()
        // The widest query, in halves on two connections when it covers the whole table.
        let parts = only == nil ? try await halves("credentials", "id") : [""]
        let numbers = try await withThrowingTaskGroup(of: ([Int], [ScoringInput.Credential]).self) { group in
            for part in parts {
                group.addTask {
                    var ids: [Int] = [], credentials: [ScoringInput.Credential] = []
                    for try await row in try await db.client.query(Self.query("""
                        SELECT array_agg(t.id), array_agg(\(kindCode)), array_agg(t.ttl_seconds), array_agg(t.exposed),
                               array_agg(t.created_at), array_agg(t.last_rotated_at), array_agg(t.expires_at), array_agg(t.last_used_at)
                               \(together ? ", array_agg(t.key), array_agg(t.owner)" : "")
                        \(from) \(part)
                        """, only), logger: db.logger) {
                        let cells = Array(row).map { BinaryArray($0.bytes) }
                        guard let columns = cells as? [BinaryArray] else { continue }
                        ids = try columns[0].nonNullIntegers()
                        let kind = try columns[1].nonNullIntegers(), ttl = try columns[2].integers(), exposed = try columns[3].bools()
                        let created = try columns[4].dates(), rotated = try columns[5].dates(), expires = try columns[6].dates(), used = try columns[7].dates()
                        let (keys, owners) = together ? (try columns[8].strings(), try columns[9].strings()) : ([], [])
                        credentials.reserveCapacity(ids.count)
                        for i in ids.indices {
                            credentials.append(ScoringInput.Credential(key: together ? keys[i] ?? "" : "", kind: kinds[kind[i]], owner: together ? owners[i] : nil,
                                                                       createdAt: created[i], lastRotatedAt: rotated[i],
                                                                       expiresAt: expires[i], lastUsedAt: used[i], ttlSeconds: ttl[i], exposed: exposed[i]))
                        }
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
        PhaseTiming.report("credential numbers")
        let (textIDs, keys, owners) = try await texts
        PhaseTiming.report("credential texts")
        let position = Self.index(ids)
        for (j, id) in textIDs.enumerated() {
            guard let i = position[id] else { continue }
            credentials[i].key = keys[j] ?? ""
            credentials[i].owner = owners[j]
        }
        // By id, as the rest of the input expects.
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        return (order.map { ids[$0] }, order.map { credentials[$0] })
    }

    /// Validity of each model and agent control that affects scores, from the same status query
    /// as gaps and coverage: 1 valid, fading to 0 over the grace period, 0 failed or stale.
    private func controlStates(asOf: Date, weights: ScoringWeights, models: [Int]?, agents: [Int]?) async throws
        -> [(kind: String, key: String, control: String, state: ScoringInput.ControlState)] {
        let controls = Array(weights.modelControlEffects.keys) + Array(weights.agentControlEffects.keys) + [weights.failedScanControl]
        let scoped = models != nil || agents != nil
        var binds = PostgresBindings()
        binds.append(asOf)
        binds.append(controls)
        if scoped {
            binds.append(models ?? [])
            binds.append(agents ?? [])
        }
        // `= ANY` here: joined with `unnest`, the planner hashed all 100,000 agents for 2,600 of them.
        let subjects = scoped ? """
            SELECT 'model'::text AS kind, m.key, m.owner FROM models m WHERE m.id = ANY($3::int8[])
            UNION ALL SELECT 'agent', a.key, a.owner FROM agents a WHERE a.id = ANY($4::int8[])
            """ : "SELECT 'model'::text AS kind, key, owner FROM models UNION ALL SELECT 'agent', key, owner FROM agents"
        let sql = PostgresQuery(unsafeSQL: """
            WITH \(EvidenceStatusSQL.statusCTE(subjects: subjects))
            SELECT st.kind, st.key, st.control_id, st.status, st.evidence_id, st.expires_at,
                   CASE st.status
                       WHEN 'valid' THEN 1.0
                       WHEN 'expired-in-grace' THEN greatest(0, 1 - extract(epoch FROM ($1 - st.expires_at)) / (c.grace_days * 86400.0))
                       ELSE 0.0
                   END::float8
            FROM status st JOIN controls c ON c.id = st.control_id
            WHERE st.evidence_id IS NOT NULL AND st.control_id = ANY($2)
            """, binds: binds)
        var out: [(kind: String, key: String, control: String, state: ScoringInput.ControlState)] = []
        for try await (kind, key, control, status, evidence, expires, validity) in try await db.client.query(sql, logger: db.logger)
            .decode((String, String, String, String, Int?, Date?, Double).self) {
            out.append((kind, key, control, ScoringInput.ControlState(validity: validity, evidenceID: evidence, expiresAt: expires, failed: status == "failed")))
        }
        return out
    }
}
