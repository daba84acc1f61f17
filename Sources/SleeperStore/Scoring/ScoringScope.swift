import Foundation
import NIOCore
import PostgresNIO
import SleeperCore

/// Which part of the estate a set of credentials, or a model's or agent's blast radius, needs.
extension ScoringInputLoader {
    /// The part of the estate some credentials' scores depend on: the credentials, the agents
    /// holding them and every agent delegating to those (transitively), the models those agents
    /// use and all their ancestors, those models' datasets, and the credentials' resources. The
    /// scores of the credentials computed on this part equal their scores on the whole estate,
    /// because every input to a score lies upstream of it.
    public struct Scope: Sendable {
        public var credentials: [Int], agents: [Int], models: [Int], datasets: [Int], resources: [Int]
        /// Models (database id → key and L*) whose scores come from a stored run: neither their
        /// lineage nor their own data is read.
        public var carried: [Int: (key: String, lStar: Double, main: String)] = [:]
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
        async let resources = idList(
            """
            SELECT DISTINCT g.resource_id FROM unnest($1::int8[]) c(id) JOIN grants g ON g.credential_id = c.id
            """, credentialIDs)
        let agents = try await idList(
            """
            WITH RECURSIVE up_agents(id) AS (
                SELECT h.agent_id FROM unnest($1::int8[]) c(id) JOIN holds h ON h.credential_id = c.id
                UNION
                SELECT unnest($2::int8[])
                UNION
                SELECT d.agent_id FROM delegates_to d JOIN up_agents u ON d.delegate_id = u.id
            )
            SELECT id FROM up_agents ORDER BY id
            """, credentialIDs, extraAgents)
        let models = try await idList(
            """
            WITH RECURSIVE up_models(id) AS (
                SELECT u.model_id FROM unnest($1::int8[]) a(id) JOIN uses_model u ON u.agent_id = a.id
                UNION
                SELECT unnest($2::int8[])
                UNION
                SELECT p.parent_id FROM derived_from p JOIN up_models m ON p.model_id = m.id
            )
            SELECT id FROM up_models ORDER BY id
            """, agents, extraModels)
        let datasets = try await idList(
            """
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
        async let datasets = idList(
            """
            SELECT DISTINCT t.dataset_id FROM unnest($1::int8[]) m(id) JOIN trained_on t ON t.model_id = m.id
            """, recompute)
        let holdEdges = try await edges("holds", "credential_id", "agent_id", kind: ("delivery", Delivery.allCases.map(\.rawValue)), credentialIDs, idLimits: limits)
        var binds = PostgresBindings()
        binds.append(Array(Set(holdEdges.map(\.to))))
        binds.append(delegationRounds)
        let agents =
            try await arrays(
                PostgresQuery(
                    unsafeSQL: """
                        WITH RECURSIVE up(id, hop) AS (
                            SELECT unnest($1::int8[]), 0
                            UNION
                            SELECT d.agent_id, u.hop + 1 FROM up u JOIN delegates_to d ON d.delegate_id = u.id WHERE u.hop < $2
                        )
                        SELECT array_agg(DISTINCT id) FROM up
                        """, binds: binds)
            ).first?.nonNullIntegers() ?? []
        async let parents = idList("SELECT p.parent_id FROM unnest($1::int8[]) m(id) JOIN derived_from p ON p.model_id = m.id", recompute)
        let useEdges = try await edges("uses_model", "agent_id", "model_id", agents, idLimits: limits)
        let models = Array(Set(useEdges.map(\.to)).union(recompute).union(try await parents)).sorted()
        let recomputed = Set(recompute)
        let needed = models.filter { !recomputed.contains($0) }
        var carried: [Int: (key: String, lStar: Double, main: String)] = [:]
        var b = PostgresBindings()
        b.append(needed)
        let stored = try await arrays(
            PostgresQuery(
                unsafeSQL: """
                    SELECT array_agg(s.model_id), array_agg(s.model_key), array_agg(s.l_star), array_agg(coalesce(s.main, ''))
                    FROM unnest($1::int8[]) n(id) JOIN \(storedModels) s ON s.model_id = n.id
                    """, binds: b))
        if stored.count == 4 {
            let (id, key, lStar, main) = (try stored[0].nonNullIntegers(), try stored[1].strings(), try stored[2].doubles(), try stored[3].strings())
            for i in id.indices { carried[id[i]] = (key[i] ?? "", lStar[i], main[i] ?? "") }
        }
        guard carried.count == needed.count else { return nil }
        let grants = try await grantEdges
        return Scope(
            credentials: credentialIDs.sorted(), agents: agents, models: models, datasets: try await datasets,
            resources: Array(Set(grants.map(\.to))).sorted(), carried: carried, bounded: true,
            holds: holdEdges, grants: grants, uses: useEdges, credentialRows: try await credentialRows)
    }

    /// What a model's or an agent's blast radius needs: every model derived from it, every agent
    /// it reaches, the credentials they hold, and the upstream of all of those.
    public func downstreamScope(of subject: Subject) async throws -> Scope {
        let down = try await downstream(of: subject)
        return try await upstreamScope(credentialIDs: down.credentials, agents: down.agents, models: down.models)
    }

    /// What a model, dataset or agent reaches (database ids): the model itself and every model
    /// derived from it (or trained on the dataset), the agents that use them or the agent itself,
    /// every agent they delegate to, and the credentials those agents hold.
    public func downstream(of subject: Subject) async throws -> (models: [Int], agents: [Int], credentials: [Int]) {
        func keys(_ kind: SubjectKind) -> [String] { subject.kind == kind ? [subject.key] : [] }
        var binds = PostgresBindings()
        binds.append(keys(.model))
        binds.append(keys(.agent))
        binds.append(keys(.dataset))
        var models: [Int] = [], agents: [Int] = [], credentials: [Int] = []
        for try await (kind, id) in try await db.client.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH RECURSIVE
                    down_models(id) AS (
                        SELECT id FROM models WHERE key = ANY($1)
                        UNION SELECT t.model_id FROM trained_on t JOIN datasets d ON d.id = t.dataset_id WHERE d.key = ANY($3)
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
                    """, binds: binds), logger: db.logger
        ).decode((String, Int).self) {
            switch kind {
            case "m": models.append(id);
            case "a": agents.append(id);
            default: credentials.append(id)
            }
        }
        return (models, agents, credentials)
    }
}
