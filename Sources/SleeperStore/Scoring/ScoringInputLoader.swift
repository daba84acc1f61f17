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

    public func upstreamScope(credentialIDs: [Int]) async throws -> Scope {
        var binds = PostgresBindings()
        binds.append(credentialIDs)
        let sql = PostgresQuery(unsafeSQL: """
            WITH RECURSIVE
            up_agents(id) AS (
                SELECT agent_id FROM holds WHERE credential_id = ANY($1)
                UNION
                SELECT d.agent_id FROM delegates_to d JOIN up_agents u ON d.delegate_id = u.id
            ),
            up_models(id) AS (
                SELECT model_id FROM uses_model WHERE agent_id IN (SELECT id FROM up_agents)
                UNION
                SELECT p.parent_id FROM derived_from p JOIN up_models m ON p.model_id = m.id
            )
            SELECT (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM up_agents),
                   (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM up_models),
                   (SELECT coalesce(array_agg(DISTINCT dataset_id), '{}') FROM trained_on WHERE model_id IN (SELECT id FROM up_models)),
                   (SELECT coalesce(array_agg(DISTINCT resource_id), '{}') FROM grants WHERE credential_id = ANY($1))
            """, binds: binds)
        for try await (agents, models, datasets, resources) in try await db.client.query(sql, logger: db.logger).decode(([Int], [Int], [Int], [Int]).self) {
            return Scope(credentials: credentialIDs.sorted(), agents: agents, models: models, datasets: datasets, resources: resources)
        }
        return Scope(credentials: [], agents: [], models: [], datasets: [], resources: [])
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
        async let lineage = pairs("SELECT model_id, parent_id, relation FROM derived_from WHERE ($1::int8[] IS NULL OR model_id = ANY($1))", scope?.models)
        async let training = pairs("SELECT model_id, dataset_id, '' FROM trained_on WHERE ($1::int8[] IS NULL OR model_id = ANY($1))", scope?.models)
        async let uses = pairs("SELECT agent_id, model_id, '' FROM uses_model WHERE ($1::int8[] IS NULL OR agent_id = ANY($1))", scope?.agents)
        async let delegation = pairs("SELECT delegate_id, agent_id, '' FROM delegates_to WHERE ($1::int8[] IS NULL OR delegate_id = ANY($1))", scope?.agents)
        async let holds = pairs("SELECT credential_id, agent_id, delivery FROM holds WHERE ($1::int8[] IS NULL OR credential_id = ANY($1))", scope?.credentials)
        async let grants = pairs("SELECT credential_id, resource_id, action FROM grants WHERE ($1::int8[] IS NULL OR credential_id = ANY($1))", scope?.credentials)

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
        try await loadControlStates(into: &input, asOf: asOf, weights: weights, scoped: scope != nil)
        return (input, credentialIDs)
    }

    static func index(_ ids: [Int]) -> [Int: Int] {
        var index: [Int: Int] = [:]
        index.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { index[id] = i }
        return index
    }

    private func pairs(_ sql: String, _ ids: [Int]?) async throws -> [(Int, Int, String)] {
        var out: [(Int, Int, String)] = []
        var binds = PostgresBindings()
        binds.append(ids)
        for try await row in try await db.client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: db.logger).decode((Int, Int, String).self) {
            out.append(row)
        }
        return out
    }

    private func datasets(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Dataset]) {
        var ids: [Int] = [], out: [ScoringInput.Dataset] = []
        for try await (id, provenance, key) in try await db.client.query("SELECT id, provenance, key FROM datasets WHERE (\(only)::int8[] IS NULL OR id = ANY(\(only))) ORDER BY id", logger: db.logger).decode((Int, String, String).self) {
            ids.append(id)
            out.append(.init(key: key, provenance: DatasetProvenance(rawValue: provenance)!))
        }
        return (ids, out)
    }

    private func models(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Model]) {
        var ids: [Int] = [], out: [ScoringInput.Model] = []
        for try await (id, key, supplier, thirdParty, verified, declared, hasDigest, signed, serialization) in try await db.client.query("""
            SELECT id, key, supplier, third_party, lineage_verified, training_data_declared, digest IS NOT NULL, signed, serialization
            FROM models WHERE (\(only)::int8[] IS NULL OR id = ANY(\(only))) ORDER BY id
            """, logger: db.logger).decode((Int, String, String?, Bool, Bool, Bool, Bool, Bool, String).self) {
            ids.append(id)
            out.append(.init(key: key, supplier: supplier, thirdParty: thirdParty, lineageVerified: verified,
                             trainingDataDeclared: declared, hasDigest: hasDigest, signed: signed, serialization: serialization))
        }
        return (ids, out)
    }

    private func agents(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Agent]) {
        var ids: [Int] = [], out: [ScoringInput.Agent] = []
        for try await (id, key, trust) in try await db.client.query("SELECT id, key, input_trust FROM agents WHERE (\(only)::int8[] IS NULL OR id = ANY(\(only))) ORDER BY id", logger: db.logger).decode((Int, String, String).self) {
            ids.append(id)
            out.append(.init(key: key, inputTrust: InputTrust(rawValue: trust)!))
        }
        return (ids, out)
    }

    private func resources(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Resource]) {
        var ids: [Int] = [], out: [ScoringInput.Resource] = []
        for try await (id, key, tier) in try await db.client.query("SELECT id, key, tier::int FROM resources WHERE (\(only)::int8[] IS NULL OR id = ANY(\(only))) ORDER BY id", logger: db.logger).decode((Int, String, Int).self) {
            ids.append(id)
            out.append(.init(key: key, tier: ResourceTier(rawValue: tier)!))
        }
        return (ids, out)
    }

    private func credentials(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Credential]) {
        var ids: [Int] = [], out: [ScoringInput.Credential] = []
        for try await row in try await db.client.query("""
            SELECT id, key, kind, owner, created_at, last_rotated_at, expires_at, last_used_at, ttl_seconds, exposed FROM credentials
            WHERE (\(only)::int8[] IS NULL OR id = ANY(\(only))) ORDER BY id
            """, logger: db.logger) {
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
