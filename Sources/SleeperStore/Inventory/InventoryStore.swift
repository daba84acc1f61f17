import Foundation
import PostgresNIO
import SleeperCore

/// Reads the stored inventory back into the domain model, one query per kind with edges aggregated.
public struct InventoryStore: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// A slice of one kind, in key order: one entity (`key`), or `limit` entities after `offset`.
    public struct Page: Sendable {
        public var key: String?
        public var limit: Int
        public var offset: Int
        public init(key: String? = nil, limit: Int = Int(Int32.max), offset: Int = 0) {
            self.key = key
            self.limit = limit
            self.offset = offset
        }
        public static let all = Page()
    }

    public func load(_ kinds: Set<EntityKind> = Set(EntityKind.allCases), page: Page = .all) async throws -> Inventory {
        var inv = Inventory()
        if kinds.contains(.resources) { inv.resources = try await resources(page) }
        if kinds.contains(.datasets) { inv.datasets = try await datasets(page) }
        if kinds.contains(.models) { inv.models = try await models(page) }
        if kinds.contains(.agents) { inv.agents = try await agents(page) }
        if kinds.contains(.credentials) { inv.credentials = try await credentials(page) }
        return inv
    }

    func resources(_ page: Page) async throws -> [Inventory.Resource] {
        var out: [Inventory.Resource] = []
        for try await (key, name, owner, tier, endpoints) in try await db.client.query(
            "SELECT key, name, owner, tier::int, endpoints FROM resources WHERE (\(page.key)::text IS NULL OR key = \(page.key)) ORDER BY key LIMIT \(page.limit) OFFSET \(page.offset)",
            logger: db.logger
        ).decode((String, String, String?, Int, [String]).self) {
            out.append(.init(key: key, name: name, owner: owner, tier: try rowValue(ResourceTier.self, tier), endpoints: endpoints))
        }
        return out
    }

    func datasets(_ page: Page) async throws -> [Inventory.Dataset] {
        var out: [Inventory.Dataset] = []
        for try await (key, name, owner, provenance) in try await db.client.query(
            "SELECT key, name, owner, provenance FROM datasets WHERE (\(page.key)::text IS NULL OR key = \(page.key)) ORDER BY key LIMIT \(page.limit) OFFSET \(page.offset)", logger: db.logger
        ).decode((String, String, String?, String).self) {
            out.append(.init(key: key, name: name, owner: owner, provenance: try rowValue(DatasetProvenance.self, provenance)))
        }
        return out
    }

    func models(_ page: Page) async throws -> [Inventory.Model] {
        let sql: PostgresQuery = """
            SELECT m.key, m.name, m.supplier, m.owner, m.third_party, m.digest, m.signed, m.serialization,
                   m.lineage_verified, m.training_data_declared,
                   coalesce((SELECT array_agg(p.key ORDER BY p.key) FROM derived_from d JOIN models p ON p.id = d.parent_id WHERE d.model_id = m.id), '{}'),
                   coalesce((SELECT array_agg(d.relation ORDER BY p.key) FROM derived_from d JOIN models p ON p.id = d.parent_id WHERE d.model_id = m.id), '{}'),
                   coalesce((SELECT array_agg(s.key ORDER BY s.key) FROM trained_on t JOIN datasets s ON s.id = t.dataset_id WHERE t.model_id = m.id), '{}')
            FROM models m WHERE (\(page.key)::text IS NULL OR m.key = \(page.key)) ORDER BY m.key LIMIT \(page.limit) OFFSET \(page.offset)
            """
        var out: [Inventory.Model] = []
        for try await row in try await db.client.query(sql, logger: db.logger) {
            let (key, name, supplier, owner, thirdParty, digest, signed, serialization, verified, declared, parents, relations, datasets) =
                try row.decode((String, String, String?, String?, Bool, String?, Bool, String, Bool, Bool, [String], [String], [String]).self)
            out.append(
                .init(
                    key: key, name: name, supplier: supplier, owner: owner, thirdParty: thirdParty, digest: digest,
                    signed: signed, serialization: try rowValue(Serialization.self, serialization), lineageVerified: verified,
                    trainingDataDeclared: declared,
                    derivedFrom: try zip(parents, relations).map { .init(model: $0, relation: try rowValue(DerivationRelation.self, $1)) },
                    trainedOn: datasets))
        }
        return out
    }

    func agents(_ page: Page) async throws -> [Inventory.Agent] {
        let sql: PostgresQuery = """
            SELECT a.key, a.name, a.owner, a.input_trust, a.tools, a.endpoints, a.trace_names,
                   coalesce((SELECT array_agg(m.key ORDER BY m.key) FROM uses_model u JOIN models m ON m.id = u.model_id WHERE u.agent_id = a.id), '{}'),
                   coalesce((SELECT array_agg(d.key ORDER BY d.key) FROM delegates_to x JOIN agents d ON d.id = x.delegate_id WHERE x.agent_id = a.id), '{}'),
                   coalesce((SELECT array_agg(c.key ORDER BY c.key) FROM holds h JOIN credentials c ON c.id = h.credential_id WHERE h.agent_id = a.id), '{}'),
                   coalesce((SELECT array_agg(h.delivery ORDER BY c.key) FROM holds h JOIN credentials c ON c.id = h.credential_id WHERE h.agent_id = a.id), '{}')
            FROM agents a WHERE (\(page.key)::text IS NULL OR a.key = \(page.key)) ORDER BY a.key LIMIT \(page.limit) OFFSET \(page.offset)
            """
        var out: [Inventory.Agent] = []
        for try await row in try await db.client.query(sql, logger: db.logger) {
            let (key, name, owner, trust, tools, endpoints, traceNames, models, delegates, credentials, deliveries) =
                try row.decode((String, String, String?, String, [String]?, [String], [String], [String], [String], [String], [String]).self)
            out.append(
                .init(
                    key: key, name: name, owner: owner, inputTrust: try rowValue(InputTrust.self, trust), usesModels: models,
                    delegatesTo: delegates,
                    holds: try zip(credentials, deliveries).map { .init(credential: $0, delivery: try rowValue(Delivery.self, $1)) },
                    tools: tools, endpoints: endpoints, traceNames: traceNames))
        }
        return out
    }

    func credentials(_ page: Page) async throws -> [Inventory.Credential] {
        let sql: PostgresQuery = """
            SELECT c.key, c.kind, c.provider, c.owner, c.fingerprint, c.scopes, c.created_at, c.last_rotated_at,
                   c.expires_at, c.last_used_at, c.ttl_seconds, c.exposed,
                   coalesce(g.resources, '{}'), coalesce(g.actions, '{}'), c.state
            FROM credentials c
            LEFT JOIN LATERAL (
                SELECT array_agg(r.key ORDER BY r.key, x.action) AS resources, array_agg(x.action ORDER BY r.key, x.action) AS actions
                FROM grants x JOIN resources r ON r.id = x.resource_id WHERE x.credential_id = c.id
            ) g ON true
            WHERE (\(page.key)::text IS NULL OR c.key = \(page.key))
            ORDER BY c.key LIMIT \(page.limit) OFFSET \(page.offset)
            """
        var out: [Inventory.Credential] = []
        for try await row in try await db.client.query(sql, logger: db.logger) {
            let (key, kind, provider, owner, fingerprint, scopes, created, rotated, expires, used, ttl, exposed, resources, actions, state) =
                try row.decode((String, String, String?, String?, String?, [String], Date?, Date?, Date?, Date?, Int32?, Bool, [String], [String], String).self)
            var credential = Inventory.Credential(
                key: key, kind: try rowValue(CredentialKind.self, kind), provider: provider, owner: owner, fingerprint: fingerprint,
                scopes: scopes, createdAt: created, lastRotatedAt: rotated, expiresAt: expires, lastUsedAt: used,
                ttlSeconds: ttl.map(Int.init), exposed: exposed,
                grants: try zip(resources, actions).map { .init(resource: $0, action: try rowValue(GrantAction.self, $1)) })
            credential.state = try rowValue(CredentialState.self, state)
            out.append(credential)
        }
        return out
    }

    /// A model's digest: nil when there is no such model, `.some(nil)` when it has none.
    public func modelDigest(_ key: String) async throws -> String?? {
        for try await digest in try await db.client.query("SELECT digest FROM models WHERE key = \(key)", logger: db.logger).decode(String?.self) {
            return .some(digest)
        }
        return nil
    }
}
