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

    private func idList<T: PostgresArrayEncodable & PostgresNonThrowingEncodable>(_ sql: String, _ ids: [T], _ more: [Int]? = nil) async throws -> [Int] {
        var binds = PostgresBindings()
        binds.append(ids)
        if let more { binds.append(more) }
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
        async let lineage = edges("derived_from", "model_id", "parent_id", kind: ("relation", DerivationRelation.allCases.map(\.rawValue)), scope?.models)
        async let training = edges("trained_on", "model_id", "dataset_id", scope?.models)
        async let uses = edges("uses_model", "agent_id", "model_id", scope?.agents)
        async let delegation = edges("delegates_to", "delegate_id", "agent_id", scope?.agents)
        async let holds = edges("holds", "credential_id", "agent_id", kind: ("delivery", Delivery.allCases.map(\.rawValue)), scope?.credentials)
        async let grants = edges("grants", "credential_id", "resource_id", kind: ("action", GrantAction.allCases.map(\.rawValue)), scope?.credentials)

        let clock = ContinuousClock(), begun = clock.now
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
        for e in try await delegation { input.agents[agentIndex[e.from]!].delegators.append(agentIndex[e.to]!) }
        for e in try await holds {
            input.credentials[credentialIndex[e.from]!].holders.append((agentIndex[e.to]!, deliveries[e.kind]))
        }
        for e in try await grants {
            input.credentials[credentialIndex[e.from]!].grants.append((resourceIndex[e.to]!, actions[e.kind]))
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
        for i in input.credentials.indices {
            input.credentials[i].holders.sort { $0.agent < $1.agent }
            input.credentials[i].grants.sort { ($0.resource, $0.action.rawValue) < ($1.resource, $1.action.rawValue) }
        }
        PhaseTiming.report("edges sorted \(clock.now - begun)")
        let t = clock.now
        try await loadControlStates(into: &input, asOf: asOf, weights: weights, scoped: scope != nil)
        PhaseTiming.report("control states \(clock.now - t)")
        return (input, credentialIDs)
    }

    /// Database id → position. Identity ids are nearly dense, so a flat array serves where it
    /// can: a million dictionary lookups per edge table cost about a second.
    struct IDIndex {
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

    /// The rows of an edge table as (from, to, kind code). PostgreSQL packs a few thousand edges
    /// per row as text (`from to kind,` …) which is parsed byte by byte here: decoding 2M single
    /// rows, or 2M-element arrays, through the driver took about 4 s at 1M credentials; this
    /// takes well under one. `kind` names the enum column and its values; its code is the position.
    private func edges(_ table: String, _ fromColumn: String, _ toColumn: String, kind: (column: String, values: [String])? = nil,
                       _ ids: [Int]?) async throws -> [Edge] {
        let code = kind.map { k in
            "CASE t.\(k.column) " + k.values.enumerated().map { "WHEN '\($1)' THEN \($0)" }.joined(separator: " ") + " END"
        } ?? "0"
        let sql = """
            SELECT string_agg(concat_ws(' ', t.\(fromColumn), t.\(toColumn), \(code)), ',')
            \(Self.from(table, fromColumn, ids)) GROUP BY t.\(fromColumn) >> 12
            """
        var out: [Edge] = []
        let clock = ContinuousClock(), start = clock.now
        for try await row in try await db.client.query(Self.query(sql, ids), logger: db.logger) {
            guard let bytes = row.first?.bytes else { continue }
            Self.parseEdges(bytes, into: &out)
        }
        PhaseTiming.report("\(table): \(out.count) edges in \(clock.now - start)")
        return out
    }

    /// `from to kind,from to kind,…` with non-negative decimal integers.
    static func parseEdges(_ buffer: ByteBuffer, into out: inout [Edge]) {
        buffer.withUnsafeReadableBytes { raw in
            var fields = (0, 0, 0), field = 0, value = 0
            for byte in raw {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value &* 10 &+ Int(byte &- 48)
                case UInt8(ascii: " "):
                    if field == 0 { fields.0 = value } else { fields.1 = value }
                    field += 1; value = 0
                default:
                    fields.2 = value
                    out.append(Edge(from: fields.0, to: fields.1, kind: fields.2))
                    field = 0; value = 0
                }
            }
            if field == 2 { out.append(Edge(from: fields.0, to: fields.1, kind: value)) }
        }
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

    /// Credentials packed as text like the edges (a million ten-column rows took about 3 s to
    /// decode one by one). Per credential: `id kind ttl exposed created rotated expires used`
    /// (timestamps as microseconds since 2000, as PostgreSQL stores them; empty for NULL), then
    /// key and owner each as `length:bytes` (owner `-:` when NULL), then a newline.
    private func credentials(_ only: [Int]?) async throws -> ([Int], [ScoringInput.Credential]) {
        // date_part (double) rather than extract (numeric): a third of the server's time here.
        func micros(_ column: String) -> String { "((date_part('epoch', t.\(column)) - 946684800) * 1000000)::int8" }
        let kinds = CredentialKind.allCases
        let kindCode = "CASE t.kind " + kinds.enumerated().map { "WHEN '\($1.rawValue)' THEN \($0)" }.joined(separator: " ") + " END"
        let sql = """
            SELECT string_agg(concat(t.id, ' ', \(kindCode), ' ', t.ttl_seconds, ' ', t.exposed::int, ' ', \(micros("created_at")), ' ',
                                     \(micros("last_rotated_at")), ' ', \(micros("expires_at")), ' ', \(micros("last_used_at")), ' ',
                                     octet_length(t.key), ':', t.key, coalesce(octet_length(t.owner)::text, '-'), ':', t.owner), E'\\n')
            \(Self.from("credentials", "id", only)) GROUP BY t.id >> 12
            """
        var rows: [(Int, ScoringInput.Credential)] = []
        for try await row in try await db.client.query(Self.query(sql, only), logger: db.logger) {
            guard let bytes = row.first?.bytes else { continue }
            try Self.parseCredentials(bytes, kinds: kinds, into: &rows)
        }
        rows.sort { $0.0 < $1.0 }
        return (rows.map(\.0), rows.map(\.1))
    }

    static func parseCredentials(_ buffer: ByteBuffer, kinds: [CredentialKind], into out: inout [(Int, ScoringInput.Credential)]) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var i = 0
            let n = raw.count
            func number() -> Int? {
                var v = 0, negative = false, any = false
                if i < n, raw[i] == UInt8(ascii: "-") { negative = true; i += 1 }
                while i < n, raw[i] >= 48, raw[i] <= 57 { v = v &* 10 &+ Int(raw[i] &- 48); i += 1; any = true }
                return any ? (negative ? -v : v) : nil
            }
            func expect(_ c: UInt8) throws {
                guard i < n, raw[i] == c else { throw StoreError.invalidInput("unexpected packed credential data at byte \(i)") }
                i += 1
            }
            func string() throws -> String? {
                if i < n, raw[i] == UInt8(ascii: "-") { i += 1; try expect(UInt8(ascii: ":")); return nil }
                guard let length = number() else { throw StoreError.invalidInput("unexpected packed credential data at byte \(i)") }
                try expect(UInt8(ascii: ":"))
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: raw[i..<(i + length)]), as: UTF8.self)
                i += length
                return s
            }
            func date(_ micros: Int?) -> Date? {
                micros.map { Date(timeInterval: Double($0) / 1_000_000, since: Date(timeIntervalSince1970: 946_684_800)) }
            }
            let space = UInt8(ascii: " ")
            while i < n {
                guard let id = number() else { break }
                try expect(space); let kind = number() ?? 0
                try expect(space); let ttl = number()
                try expect(space); let exposed = number() == 1
                try expect(space); let created = number()
                try expect(space); let rotated = number()
                try expect(space); let expires = number()
                try expect(space); let used = number()
                try expect(space)
                let key = try string() ?? ""
                let owner = try string()
                out.append((id, ScoringInput.Credential(key: key, kind: kinds[kind], owner: owner, createdAt: date(created), lastRotatedAt: date(rotated),
                                                        expiresAt: date(expires), lastUsedAt: date(used), ttlSeconds: ttl, exposed: exposed)))
                if i < n { try expect(UInt8(ascii: "\n")) }
            }
        }
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
