import Foundation
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
    }

    /// The upstream scope of the credentials with these keys (unknown keys are left out).
    public func upstreamScope(credentialKeys: [String]) async throws -> Scope {
        let ids = try await ids("SELECT id FROM credentials WHERE key = ANY($1)", credentialKeys)
        return try await upstreamScope(credentialIDs: ids)
    }

    /// Four small queries rather than one: with the recursive closures referenced more than once
    /// PostgreSQL took 160 ms for what these do in 40 (5,000 credentials at 1M). Ids are joined
    /// with `unnest`, not `= ANY($1)`, which made the planner scan all of holds in parallel.
    public func upstreamScope(credentialIDs: [Int]) async throws -> Scope {
        async let resources = idList("""
            SELECT DISTINCT g.resource_id FROM unnest($1::int8[]) c(id) JOIN grants g ON g.credential_id = c.id
            """, credentialIDs)
        let agents = try await idList("""
            WITH RECURSIVE up_agents(id) AS (
                SELECT h.agent_id FROM unnest($1::int8[]) c(id) JOIN holds h ON h.credential_id = c.id
                UNION
                SELECT d.agent_id FROM delegates_to d JOIN up_agents u ON d.delegate_id = u.id
            )
            SELECT id FROM up_agents ORDER BY id
            """, credentialIDs)
        let models = try await idList("""
            WITH RECURSIVE up_models(id) AS (
                SELECT u.model_id FROM unnest($1::int8[]) a(id) JOIN uses_model u ON u.agent_id = a.id
                UNION
                SELECT p.parent_id FROM derived_from p JOIN up_models m ON p.model_id = m.id
            )
            SELECT id FROM up_models ORDER BY id
            """, agents)
        let datasets = try await idList("""
            SELECT DISTINCT t.dataset_id FROM unnest($1::int8[]) m(id) JOIN trained_on t ON t.model_id = m.id
            """, models)
        return Scope(credentials: credentialIDs.sorted(), agents: agents, models: models, datasets: datasets, resources: try await resources)
    }

    private func idList(_ sql: String, _ ids: [Int]) async throws -> [Int] {
        var binds = PostgresBindings()
        binds.append(ids)
        var out: [Int] = []
        for try await id in try await db.client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: db.logger).decode(Int.self) { out.append(id) }
        return out
    }

    private func ids(_ sql: String, _ keys: [String]) async throws -> [Int] {
        var binds = PostgresBindings()
        binds.append(keys)
        var out: [Int] = []
        for try await id in try await db.client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: db.logger).decode(Int.self) { out.append(id) }
        return out
    }

    /// The input, plus each credential's database id (same order) for storing results; the whole
    /// estate, or only `scope`. The queries run concurrently on separate connections: the server
    /// reads while we decode.
    public func load(asOf: Date, weights: ScoringWeights, scope: Scope? = nil) async throws -> (ScoringInput, credentialIDs: [Int]) {
        async let datasetRows = datasets(scope?.datasets)
        async let modelRows = models(scope?.models)
        async let agentRows = agents(scope?.agents)
        async let resourceRows = resources(scope?.resources)
        async let credentialRows = credentials(scope?.credentials)
        async let lineage = pairs("SELECT t.model_id, t.parent_id, t.relation \(Self.from("derived_from", "model_id", scope?.models))", scope?.models)
        async let training = pairs("SELECT t.model_id, t.dataset_id, '' \(Self.from("trained_on", "model_id", scope?.models))", scope?.models)
        async let uses = pairs("SELECT t.agent_id, t.model_id, '' \(Self.from("uses_model", "agent_id", scope?.agents))", scope?.agents)
        async let delegation = pairs("SELECT t.delegate_id, t.agent_id, '' \(Self.from("delegates_to", "delegate_id", scope?.agents))", scope?.agents)
        async let holds = pairs("SELECT t.credential_id, t.agent_id, t.delivery \(Self.from("holds", "credential_id", scope?.credentials))", scope?.credentials)
        async let grants = pairs("SELECT t.credential_id, t.resource_id, t.action \(Self.from("grants", "credential_id", scope?.credentials))", scope?.credentials)

        var input = ScoringInput(asOf: asOf)
        let (datasetIDs, datasetList) = try await datasetRows
        let (modelIDs, modelList) = try await modelRows
        let (agentIDs, agentList) = try await agentRows
        let (resourceIDs, resourceList) = try await resourceRows
        let (credentialIDs, credentialList) = try await credentialRows
        input.datasets = datasetList
        input.models = modelList
        input.agents = agentList
        input.resources = resourceList
        input.credentials = credentialList
        let datasetIndex = Self.index(datasetIDs), modelIndex = Self.index(modelIDs), agentIndex = Self.index(agentIDs)
        let resourceIndex = Self.index(resourceIDs), credentialIndex = Self.index(credentialIDs)

        for (model, parent, relation) in try await lineage {
            input.models[modelIndex[model]!].parents.append((modelIndex[parent]!, DerivationRelation(rawValue: relation)!))
        }
        for (model, dataset, _) in try await training { input.models[modelIndex[model]!].datasets.append(datasetIndex[dataset]!) }
        for (agent, model, _) in try await uses { input.agents[agentIndex[agent]!].models.append(modelIndex[model]!) }
        for (delegate, agent, _) in try await delegation { input.agents[agentIndex[delegate]!].delegators.append(agentIndex[agent]!) }
        for (credential, agent, delivery) in try await holds {
            input.credentials[credentialIndex[credential]!].holders.append((agentIndex[agent]!, Delivery(rawValue: delivery)!))
        }
        for (credential, resource, action) in try await grants {
            input.credentials[credentialIndex[credential]!].grants.append((resourceIndex[resource]!, GrantAction(rawValue: action)!))
        }
        // Edges arrive in no particular order; sort so that products run in the same order every time.
        for i in input.models.indices {
            input.models[i].parents.sort { $0.model < $1.model }
            input.models[i].datasets.sort()
        }
        for i in input.agents.indices {
            input.agents[i].models.sort()
            input.agents[i].delegators.sort()
        }
        for i in input.credentials.indices {
            input.credentials[i].holders.sort { $0.agent < $1.agent }
            input.credentials[i].grants.sort { ($0.resource, $0.action.rawValue) < ($1.resource, $1.action.rawValue) }
        }
        let clock = ContinuousClock(), t = clock.now
        try await loadControlStates(into: &input, asOf: asOf, weights: weights, scoped: scope != nil)
        PhaseTiming.report("control states \(clock.now - t)")
        return (input, credentialIDs)
    }

    static func index(_ ids: [Int]) -> [Int: Int] {
        var index: [Int: Int] = [:]
        index.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { index[id] = i }
        return index
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

    private func pairs(_ sql: String, _ ids: [Int]?) async throws -> [(Int, Int, String)] {
        var out: [(Int, Int, String)] = []
        for try await row in try await db.client.query(Self.query(sql, ids), logger: db.logger).decode((Int, Int, String).self) {
            out.append(row)
        }
        return out
    }

    private func datasets(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Dataset]) {
        var ids: [Int] = [], out: [ScoringInput.Dataset] = []
        for try await (id, provenance, key) in try await db.client.query(Self.query("SELECT t.id, t.provenance, t.key \(Self.from("datasets", "id", only)) ORDER BY t.id", only), logger: db.logger).decode((Int, String, String).self) {
            ids.append(id)
            out.append(.init(key: key, provenance: DatasetProvenance(rawValue: provenance)!))
        }
        return (ids, out)
    }

    private func models(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Model]) {
        var ids: [Int] = [], out: [ScoringInput.Model] = []
        for try await (id, key, supplier, thirdParty, verified, declared, hasDigest, signed, serialization) in try await db.client.query(Self.query("""
            SELECT t.id, t.key, t.supplier, t.third_party, t.lineage_verified, t.training_data_declared, t.digest IS NOT NULL, t.signed, t.serialization
            \(Self.from("models", "id", only)) ORDER BY t.id
            """, only), logger: db.logger).decode((Int, String, String?, Bool, Bool, Bool, Bool, Bool, String).self) {
            ids.append(id)
            out.append(.init(key: key, supplier: supplier, thirdParty: thirdParty, lineageVerified: verified,
                             trainingDataDeclared: declared, hasDigest: hasDigest, signed: signed, serialization: serialization))
        }
        return (ids, out)
    }

    private func agents(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Agent]) {
        var ids: [Int] = [], out: [ScoringInput.Agent] = []
        for try await (id, key, trust) in try await db.client.query(Self.query("SELECT t.id, t.key, t.input_trust \(Self.from("agents", "id", only)) ORDER BY t.id", only), logger: db.logger).decode((Int, String, String).self) {
            ids.append(id)
            out.append(.init(key: key, inputTrust: InputTrust(rawValue: trust)!))
        }
        return (ids, out)
    }

    private func resources(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Resource]) {
        var ids: [Int] = [], out: [ScoringInput.Resource] = []
        for try await (id, key, tier) in try await db.client.query(Self.query("SELECT t.id, t.key, t.tier::int \(Self.from("resources", "id", only)) ORDER BY t.id", only), logger: db.logger).decode((Int, String, Int).self) {
            ids.append(id)
            out.append(.init(key: key, tier: ResourceTier(rawValue: tier)!))
        }
        return (ids, out)
    }

    private func credentials(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Credential]) {
        var ids: [Int] = [], out: [ScoringInput.Credential] = []
        for try await row in try await db.client.query(Self.query("""
            SELECT t.id, t.key, t.kind, t.owner, t.created_at, t.last_rotated_at, t.expires_at, t.last_used_at, t.ttl_seconds, t.exposed
            \(Self.from("credentials", "id", only)) ORDER BY t.id
            """, only), logger: db.logger) {
            let (id, key, kind, owner, created, rotated, expires, used, ttl, exposed) =
                try row.decode((Int, String, String, String?, Date?, Date?, Date?, Date?, Int32?, Bool).self)
            ids.append(id)
            out.append(.init(key: key, kind: CredentialKind(rawValue: kind)!, owner: owner, createdAt: created, lastRotatedAt: rotated,
                             expiresAt: expires, lastUsedAt: used, ttlSeconds: ttl.map(Int.init), exposed: exposed))
        }
        return (ids, out)
    }

    /// Validity of each model and agent control that affects scores, from the same status query
    /// as gaps and coverage: 1 valid, fading to 0 over the grace period, 0 failed or stale.
    private func loadControlStates(into input: inout ScoringInput, asOf: Date, weights: ScoringWeights, scoped: Bool) async throws {
        let controls = Array(weights.modelControlEffects.keys) + Array(weights.agentControlEffects.keys) + [weights.failedScanControl]
        var binds = PostgresBindings()
        binds.append(asOf)
        binds.append(controls)
        binds.append(scoped ? input.models.map(\.key) : nil)
        binds.append(scoped ? input.agents.map(\.key) : nil)
        let sql = PostgresQuery(unsafeSQL: """
            WITH \(EvidenceStatusSQL.statusCTE)
            SELECT st.kind, st.key, st.control_id, st.status, st.evidence_id, st.expires_at,
                   CASE st.status
                       WHEN 'valid' THEN 1.0
                       WHEN 'expired-in-grace' THEN greatest(0, 1 - extract(epoch FROM ($1 - st.expires_at)) / (c.grace_days * 86400.0))
                       ELSE 0.0
                   END::float8
            FROM status st JOIN controls c ON c.id = st.control_id
            WHERE st.kind IN ('model', 'agent') AND st.evidence_id IS NOT NULL AND st.control_id = ANY($2)
              AND ($3::text[] IS NULL OR (st.kind = 'model' AND st.key = ANY($3)) OR (st.kind = 'agent' AND st.key = ANY($4)))
            """, binds: binds)
        let models = Dictionary(uniqueKeysWithValues: input.models.enumerated().map { ($1.key, $0) })
        let agents = Dictionary(uniqueKeysWithValues: input.agents.enumerated().map { ($1.key, $0) })
        for try await (kind, key, control, status, evidence, expires, validity) in try await db.client.query(sql, logger: db.logger)
            .decode((String, String, String, String, Int?, Date?, Double).self) {
            let state = ScoringInput.ControlState(validity: validity, evidenceID: evidence, expiresAt: expires, failed: status == "failed")
            if kind == "model", let i = models[key] { input.models[i].controls[control] = state }
            if kind == "agent", let i = agents[key] { input.agents[i].controls[control] = state }
        }
    }
}
