import Foundation
import PostgresNIO
import SleeperCore

/// Reads everything the scoring model needs, one set-based query per table, into `ScoringInput`.
public struct ScoringInputLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// The input, plus each credential's database id (same order) for storing results.
    public func load(asOf: Date, weights: ScoringWeights) async throws -> (ScoringInput, credentialIDs: [Int]) {
        let logger = db.logger
        var modelIndex: [Int: Int] = [:], datasetIndex: [Int: Int] = [:], agentIndex: [Int: Int] = [:], resourceIndex: [Int: Int] = [:]
        var input = ScoringInput(asOf: asOf)

        for try await (id, provenance, key) in try await db.client.query("SELECT id, provenance, key FROM datasets ORDER BY id", logger: logger).decode((Int, String, String).self) {
            datasetIndex[id] = input.datasets.count
            input.datasets.append(.init(key: key, provenance: DatasetProvenance(rawValue: provenance)!))
        }
        for try await (id, key, supplier, thirdParty, verified, declared, hasDigest, signed, serialization) in try await db.client.query("""
            SELECT id, key, supplier, third_party, lineage_verified, training_data_declared, digest IS NOT NULL, signed, serialization
            FROM models ORDER BY id
            """, logger: logger).decode((Int, String, String?, Bool, Bool, Bool, Bool, Bool, String).self) {
            modelIndex[id] = input.models.count
            input.models.append(.init(key: key, supplier: supplier, thirdParty: thirdParty, lineageVerified: verified,
                                      trainingDataDeclared: declared, hasDigest: hasDigest, signed: signed, serialization: serialization))
        }
        for try await (model, parent, relation) in try await db.client.query("SELECT model_id, parent_id, relation FROM derived_from", logger: logger).decode((Int, Int, String).self) {
            input.models[modelIndex[model]!].parents.append((modelIndex[parent]!, DerivationRelation(rawValue: relation)!))
        }
        for try await (model, dataset) in try await db.client.query("SELECT model_id, dataset_id FROM trained_on", logger: logger).decode((Int, Int).self) {
            input.models[modelIndex[model]!].datasets.append(datasetIndex[dataset]!)
        }
        for try await (id, key, trust) in try await db.client.query("SELECT id, key, input_trust FROM agents ORDER BY id", logger: logger).decode((Int, String, String).self) {
            agentIndex[id] = input.agents.count
            input.agents.append(.init(key: key, inputTrust: InputTrust(rawValue: trust)!))
        }
        for try await (agent, model) in try await db.client.query("SELECT agent_id, model_id FROM uses_model", logger: logger).decode((Int, Int).self) {
            input.agents[agentIndex[agent]!].models.append(modelIndex[model]!)
        }
        for try await (agent, delegate) in try await db.client.query("SELECT agent_id, delegate_id FROM delegates_to", logger: logger).decode((Int, Int).self) {
            input.agents[agentIndex[delegate]!].delegators.append(agentIndex[agent]!)
        }
        for try await (id, key, tier) in try await db.client.query("SELECT id, key, tier::int FROM resources ORDER BY id", logger: logger).decode((Int, String, Int).self) {
            resourceIndex[id] = input.resources.count
            input.resources.append(.init(key: key, tier: ResourceTier(rawValue: tier)!))
        }
        var credentialIndex: [Int: Int] = [:], credentialIDs: [Int] = []
        for try await row in try await db.client.query("""
            SELECT id, key, kind, owner, created_at, last_rotated_at, expires_at, last_used_at, ttl_seconds, exposed FROM credentials ORDER BY id
            """, logger: logger) {
            let (id, key, kind, owner, created, rotated, expires, used, ttl, exposed) =
                try row.decode((Int, String, String, String?, Date?, Date?, Date?, Date?, Int32?, Bool).self)
            credentialIndex[id] = input.credentials.count
            credentialIDs.append(id)
            input.credentials.append(.init(key: key, kind: CredentialKind(rawValue: kind)!, owner: owner, createdAt: created, lastRotatedAt: rotated,
                                           expiresAt: expires, lastUsedAt: used, ttlSeconds: ttl.map(Int.init), exposed: exposed))
        }
        for try await (credential, agent, delivery) in try await db.client.query("SELECT credential_id, agent_id, delivery FROM holds", logger: logger).decode((Int, Int, String).self) {
            input.credentials[credentialIndex[credential]!].holders.append((agentIndex[agent]!, Delivery(rawValue: delivery)!))
        }
        for try await (credential, resource, action) in try await db.client.query("SELECT credential_id, resource_id, action FROM grants", logger: logger).decode((Int, Int, String).self) {
            input.credentials[credentialIndex[credential]!].grants.append((resourceIndex[resource]!, GrantAction(rawValue: action)!))
        }
        try await loadControlStates(into: &input, asOf: asOf, weights: weights)
        return (input, credentialIDs)
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
