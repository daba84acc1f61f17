import Foundation
import NIOCore
import PostgresNIO
import SleeperCore

/// Reads everything the scoring model needs, one set-based query per table, into `ScoringInput`.
public struct ScoringInputLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// The ids a query returns, sorted; sent as one array (rows decoded one by one cost about
    /// 5 µs each, which a few thousand ids made noticeable in a rescore).
    func idList<T: PostgresArrayEncodable & PostgresNonThrowingEncodable>(_ sql: String, _ ids: [T], _ more: [Int]? = nil) async throws -> [Int] {
        var binds = PostgresBindings()
        binds.append(ids)
        if let more { binds.append(more) }
        let columns = try await arrays(PostgresQuery(unsafeSQL: "SELECT array_agg(q.id) FROM (\(sql)) q(id)", binds: binds))
        return try (columns.first?.nonNullIntegers() ?? []).sorted()
    }

    /// The one row of a query whose columns are all `array_agg`s; empty when they aggregated nothing.
    func arrays(_ query: PostgresQuery) async throws -> [BinaryArray] {
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
        async let credentialRows = prefetched(scope?.credentialRows) { try await credentials(scope?.credentials) }
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
        async let controlRows = controlStates(asOf: asOf, weights: weights, models: ownModels, agents: scope?.agents, datasets: scope?.datasets)
        async let delegation = edges("delegates_to", "delegate_id", "agent_id", scope?.agents, idLimits: limits)
        async let recallRows = standingRecalls(asOf: asOf)

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
                model.carriedMain = stored.main
                modelList.append(model)
            }
            (modelIDs, modelList) = Self.byID(modelIDs, modelList)
        }
        let (agentIDs, agentList) = try await agentRows
        let (resourceIDs, resourceList) = try await resourceRows
        let (credentialIDs, credentialList) = try await credentialRows
        input.datasets = datasetList
        input.models = modelList
        input.agents = agentList
        input.resources = resourceList
        input.credentials = credentialList
        PhaseTiming.report("entities \(clock.now - begun)")
        let datasetIndex = Self.index(datasetIDs), modelIndex = Self.index(modelIDs), agentIndex = Self.index(agentIDs)
        let resourceIndex = Self.index(resourceIDs), credentialIndex = Self.index(credentialIDs)

        let relations = DerivationRelation.allCases, deliveries = Delivery.allCases, actions = GrantAction.allCases
        for e in try await lineage {
            input.models[try modelIndex.position(e.from, "model")].parents.append((try modelIndex.position(e.to, "model"), relations[e.kind]))
        }
        for e in try await training { input.models[try modelIndex.position(e.from, "model")].datasets.append(try datasetIndex.position(e.to, "dataset")) }
        for e in try await uses { input.agents[try agentIndex.position(e.from, "agent")].models.append(try modelIndex.position(e.to, "model")) }
        let bounded = scope?.bounded ?? false
        for e in try await delegation {
            guard let delegator = agentIndex[e.to] else {
                if bounded { continue }  // beyond the delegation rounds the scope covers
                throw StoreError.invalidInput("delegation from agent id \(e.to), outside the loaded scope")
            }
            input.agents[try agentIndex.position(e.from, "agent")].delegators.append(delegator)
        }

        // Holders and grants grouped on two cores, each credential's list built in one allocation.
        let (holdEdges, grantEdges) = (try await holds, try await grants)
        // Every far end is checked once here, so the grouping below can look them up unchecked.
        for e in holdEdges { _ = try agentIndex.position(e.to, "agent") }
        for e in grantEdges { _ = try resourceIndex.position(e.to, "resource") }
        let count = input.credentials.count
        // Sorted as they are built: edges arrive in no particular order, and products must run in
        // the same order every time.
        async let holderLists = Self.grouped(
            holdEdges, count: count, by: credentialIndex,
            { [agentIndex] e in
                (agent: agentIndex[e.to] ?? 0, delivery: deliveries[e.kind])
            }, sortedBy: { $0.agent < $1.agent })
        async let grantLists = Self.grouped(
            grantEdges, count: count, by: credentialIndex,
            { [resourceIndex] e in
                (resource: resourceIndex[e.to] ?? 0, action: actions[e.kind])
            }, sortedBy: { ($0.resource, $0.action.rawValue) < ($1.resource, $1.action.rawValue) })
        let (h, g) = try await (holderLists, grantLists)
        for i in input.credentials.indices {
            input.credentials[i].holders = h[i]
            input.credentials[i].grants = g[i]
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
        let modelPositions = Dictionary(uniqueKeysWithValues: input.models.enumerated().map { ($1.key, $0) })
        let agentPositions = Dictionary(uniqueKeysWithValues: input.agents.enumerated().map { ($1.key, $0) })
        let datasetPositions = Dictionary(uniqueKeysWithValues: input.datasets.enumerated().map { ($1.key, $0) })
        for row in try await controlRows {
            // A failed check on a dataset that holds its risk: the highest minimum when several do.
            if row.kind == "dataset", row.state.failed, let i = datasetPositions[row.key], let minimum = weights.datasetFailedControls[row.control],
                input.datasets[i].failedControl.map({ (weights.datasetFailedControls[$0] ?? 0, $0) < (minimum, row.control) }) ?? true
            {
                input.datasets[i].failedControl = row.control
                input.datasets[i].failedEvidence = row.state.evidenceID
            }
            if row.kind == "model", let i = modelPositions[row.key], input.models[i].carriedLStar == nil { input.models[i].controls[row.control] = row.state }
            if row.kind == "agent", let i = agentPositions[row.key] { input.agents[i].controls[row.control] = row.state }
        }
        // Recalled subjects count as compromised (a model carried from a stored run was not recalled
        // since: a recall rescores everything downstream of it).
        for row in try await recallRows {
            switch row.kind {
            case "model": if let i = modelPositions[row.key], input.models[i].carriedLStar == nil { input.models[i].recall = row.id }
            case "dataset": if let i = datasetPositions[row.key] { input.datasets[i].recall = row.id }
            case "agent": if let i = agentPositions[row.key] { input.agents[i].recall = row.id }
            default: break
            }
        }
        PhaseTiming.report("control states \(clock.now - begun)")
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

        /// The position of an id an edge names; an edge to a row outside what was loaded is an
        /// error, not a crash.
        func position(_ id: Int, _ kind: String) throws -> Int {
            guard let p = self[id] else { throw StoreError.invalidInput("an edge names \(kind) id \(id), which is not among the rows loaded") }
            return p
        }
    }

    static func index(_ ids: [Int]) -> IDIndex { IDIndex(ids) }

    /// The edges' elements grouped by the position of their `from` end: a counting pass, then each
    /// list made in one allocation (appending to a million small arrays reallocated most of them).
    static func grouped<T: Sendable>(
        _ edges: [Edge], count: Int, by index: IDIndex, _ element: @Sendable (Edge) -> T,
        sortedBy areInIncreasingOrder: @Sendable (T, T) -> Bool
    ) async throws -> [[T]] {
        var position = [Int32](repeating: 0, count: edges.count), start = [Int](repeating: 0, count: count + 1)
        for (k, e) in edges.enumerated() {
            let p = try index.position(e.from, "credential")
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
}
