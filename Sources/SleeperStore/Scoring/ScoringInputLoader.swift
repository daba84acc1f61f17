import Foundation
import PostgresNIO
import SleeperCore

/// Reads everything the scoring model needs, one set-based query per table, into `ScoringInput`.
public struct ScoringInputLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// The input, plus each credential's database id (same order) for storing results. The
    /// queries run concurrently on separate connections: the server reads while we decode.
    public func load(asOf: Date, weights: ScoringWeights) async throws -> (ScoringInput, credentialIDs: [Int]) {
        async let datasetRows = datasets()
        async let modelRows = models()
        async let agentRows = agents()
        async let resourceRows = resources()
        async let credentialRows = credentials()
        async let lineage = pairs("SELECT model_id, parent_id, relation FROM derived_from")
        async let training = pairs("SELECT model_id, dataset_id, '' FROM trained_on")
        async let uses = pairs("SELECT agent_id, model_id, '' FROM uses_model")
        async let delegation = pairs("SELECT delegate_id, agent_id, '' FROM delegates_to")
        async let holds = pairs("SELECT credential_id, agent_id, delivery FROM holds")
        async let grants = pairs("SELECT credential_id, resource_id, action FROM grants")

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
        try await loadControlStates(into: &input, asOf: asOf, weights: weights)
        return (input, credentialIDs)
    }

    static func index(_ ids: [Int]) -> [Int: Int] {
        var index: [Int: Int] = [:]
        index.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { index[id] = i }
        return index
    }

    private func pairs(_ sql: String) async throws -> [(Int, Int, String)] {
        var out: [(Int, Int, String)] = []
        for try await row in try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: db.logger).decode((Int, Int, String).self) {
            out.append(row)
        }
        return out
    }

    private func datasets() async throws -> ([Int], [ScoringInput.Dataset]) {
        var ids: [Int] = [], out: [ScoringInput.Dataset] = []
        for try await (id, provenance, key) in try await db.client.query("SELECT id, provenance, key FROM datasets ORDER BY id", logger: db.logger).decode((Int, String, String).self) {
            ids.append(id)
            out.append(.init(key: key, provenance: DatasetProvenance(rawValue: provenance)!))
        }
        return (ids, out)
    }

    private func models() async throws -> ([Int], [ScoringInput.Model]) {
        var ids: [Int] = [], out: [ScoringInput.Model] = []
        for try await (id, key, supplier, thirdParty, verified, declared, hasDigest, signed, serialization) in try await db.client.query("""
            SELECT id, key, supplier, third_party, lineage_verified, training_data_declared, digest IS NOT NULL, signed, serialization
            FROM models ORDER BY id
            """, logger: db.logger).decode((Int, String, String?, Bool, Bool, Bool, Bool, Bool, String).self) {
            ids.append(id)
            out.append(.init(key: key, supplier: supplier, thirdParty: thirdParty, lineageVerified: verified,
                             trainingDataDeclared: declared, hasDigest: hasDigest, signed: signed, serialization: serialization))
        }
        return (ids, out)
    }

    private func agents() async throws -> ([Int], [ScoringInput.Agent]) {
        var ids: [Int] = [], out: [ScoringInput.Agent] = []
        for try await (id, key, trust) in try await db.client.query("SELECT id, key, input_trust FROM agents ORDER BY id", logger: db.logger).decode((Int, String, String).self) {
            ids.append(id)
            out.append(.init(key: key, inputTrust: InputTrust(rawValue: trust)!))
        }
        return (ids, out)
    }

    private func resources() async throws -> ([Int], [ScoringInput.Resource]) {
        var ids: [Int] = [], out: [ScoringInput.Resource] = []
        for try await (id, key, tier) in try await db.client.query("SELECT id, key, tier::int FROM resources ORDER BY id", logger: db.logger).decode((Int, String, Int).self) {
            ids.append(id)
            out.append(.init(key: key, tier: ResourceTier(rawValue: tier)!))
        }
        return (ids, out)
    }

    private func credentials() async throws -> ([Int], [ScoringInput.Credential]) {
        var ids: [Int] = [], out: [ScoringInput.Credential] = []
        for try await row in try await db.client.query("""
            SELECT id, key, kind, owner, created_at, last_rotated_at, expires_at, last_used_at, ttl_seconds, exposed FROM credentials ORDER BY id
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
    private func loadControlStates(into input: inout ScoringInput, asOf: Date, weights: ScoringWeights) async throws {
        let controls = Array(weights.modelControlEffects.keys) + Array(weights.agentControlEffects.keys) + [weights.failedScanControl]
        var binds = PostgresBindings()
        binds.append(asOf)
        binds.append(controls)
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
