import Foundation

/// A validated inventory: every entity and its outgoing edges, referenced by natural key.
/// An entity's edge lists are authoritative for it: importing it replaces what was stored.
public struct Inventory: Sendable, Equatable {
    public var models: [Model] = []
    public var datasets: [Dataset] = []
    public var agents: [Agent] = []
    public var credentials: [Credential] = []
    public var resources: [Resource] = []

    public init(
        models: [Model] = [], datasets: [Dataset] = [], agents: [Agent] = [],
        credentials: [Credential] = [], resources: [Resource] = []
    ) {
        self.models = models
        self.datasets = datasets
        self.agents = agents
        self.credentials = credentials
        self.resources = resources
    }

    public mutating func append(contentsOf other: Inventory) {
        models += other.models
        datasets += other.datasets
        agents += other.agents
        credentials += other.credentials
        resources += other.resources
    }

    public var entityCount: Int {
        models.count + datasets.count + agents.count + credentials.count + resources.count
    }

    public struct Model: Sendable, Equatable {
        public var key: String
        public var name: String
        public var supplier: String?
        public var owner: String?
        public var thirdParty: Bool
        public var digest: String?
        public var signed: Bool
        public var serialization: Serialization
        public var lineageVerified: Bool
        public var trainingDataDeclared: Bool
        public var derivedFrom: [Derivation]
        public var trainedOn: [String]
        /// The fields a hand-written file stated for it, as bits in `InventoryFields` order (edge
        /// lists too; an explicit null counts as stated). nil: every field, as sources and programs give them.
        public var stated: UInt64? = nil
        /// Other keys that a hand-written entry says are this model (`same_as`): resolved by
        /// `ModelIdentity` before the import is merged, never stored as a field.
        public var sameAs: [String] = []
        /// The signers a hand-written entry trusts for this model (`signers`), as `sleeper
        /// verify-model` prints them; nil when the entry does not say. Stored as declarations
        /// (`trusted_signers`, by `inventory FILE`), not as a field.
        public var signers: [String]? = nil

        public init(
            key: String, name: String? = nil, supplier: String? = nil, owner: String? = nil,
            thirdParty: Bool = false, digest: String? = nil, signed: Bool = false,
            serialization: Serialization = .unknown, lineageVerified: Bool = false,
            trainingDataDeclared: Bool = false, derivedFrom: [Derivation] = [], trainedOn: [String] = []
        ) {
            self.key = key
            self.name = name ?? key
            self.supplier = supplier
            self.owner = owner
            self.thirdParty = thirdParty
            self.digest = digest
            self.signed = signed
            self.serialization = serialization
            self.lineageVerified = lineageVerified
            self.trainingDataDeclared = trainingDataDeclared
            self.derivedFrom = derivedFrom
            self.trainedOn = trainedOn
        }
    }

    public struct Derivation: Sendable, Equatable {
        public var model: String
        public var relation: DerivationRelation
        public init(model: String, relation: DerivationRelation) {
            self.model = model
            self.relation = relation
        }
    }

    public struct Dataset: Sendable, Equatable {
        public var key: String
        public var name: String
        public var owner: String?
        public var provenance: DatasetProvenance
        /// The fields a hand-written file stated for it, as bits in `InventoryFields` order (edge
        /// lists too; an explicit null counts as stated). nil: every field, as sources and programs give them.
        public var stated: UInt64? = nil
        public init(key: String, name: String? = nil, owner: String? = nil, provenance: DatasetProvenance = .unknown) {
            self.key = key
            self.name = name ?? key
            self.owner = owner
            self.provenance = provenance
        }
    }

    public struct Agent: Sendable, Equatable {
        public var key: String
        public var name: String
        public var owner: String?
        public var inputTrust: InputTrust
        public var usesModels: [String]
        public var delegatesTo: [String]
        public var holds: [Holding]
        /// The tools the agent may call (`tools`); nil when the inventory does not say, and then
        /// the tools it is seen calling are not judged.
        public var tools: [String]?
        /// Where the agent is reached when it is a service of its own (an MCP server): the agents
        /// that delegate to it may call these.
        public var endpoints: [String]
        /// The names its traces give it (`gen_ai.agent.name` or `.id`) besides its key and name.
        public var traceNames: [String]
        /// The fields a hand-written file stated for it, as bits in `InventoryFields` order (edge
        /// lists too; an explicit null counts as stated). nil: every field, as sources and programs give them.
        public var stated: UInt64? = nil
        public init(
            key: String, name: String? = nil, owner: String? = nil, inputTrust: InputTrust = .untrusted,
            usesModels: [String] = [], delegatesTo: [String] = [], holds: [Holding] = [], tools: [String]? = nil,
            endpoints: [String] = [], traceNames: [String] = []
        ) {
            self.tools = tools
            self.traceNames = traceNames
            self.endpoints = endpoints
            self.key = key
            self.name = name ?? key
            self.owner = owner
            self.inputTrust = inputTrust
            self.usesModels = usesModels
            self.delegatesTo = delegatesTo
            self.holds = holds
        }
    }

    public struct Holding: Sendable, Equatable {
        public var credential: String
        public var delivery: Delivery
        public init(credential: String, delivery: Delivery) {
            self.credential = credential
            self.delivery = delivery
        }
    }

    public struct Credential: Sendable, Equatable {
        public var key: String
        public var kind: CredentialKind
        public var provider: String?
        public var owner: String?
        public var fingerprint: String?
        public var scopes: [String]
        public var createdAt: Date?
        public var lastRotatedAt: Date?
        public var expiresAt: Date?
        public var lastUsedAt: Date?
        public var ttlSeconds: Int?
        public var exposed: Bool
        public var grants: [Grant]
        /// Active unless its source (or a person) says it is disabled, revoked or expired.
        public var state: CredentialState = .active
        /// The fields a hand-written file stated for it, as bits in `InventoryFields` order (edge
        /// lists too; an explicit null counts as stated). nil: every field, as sources and programs give them.
        public var stated: UInt64? = nil
        public init(
            key: String, kind: CredentialKind = .other, provider: String? = nil, owner: String? = nil,
            fingerprint: String? = nil, scopes: [String] = [], createdAt: Date? = nil,
            lastRotatedAt: Date? = nil, expiresAt: Date? = nil, lastUsedAt: Date? = nil,
            ttlSeconds: Int? = nil, exposed: Bool = false, grants: [Grant] = []
        ) {
            self.key = key
            self.kind = kind
            self.provider = provider
            self.owner = owner
            self.fingerprint = fingerprint
            self.scopes = scopes
            self.createdAt = createdAt
            self.lastRotatedAt = lastRotatedAt
            self.expiresAt = expiresAt
            self.lastUsedAt = lastUsedAt
            self.ttlSeconds = ttlSeconds
            self.exposed = exposed
            self.grants = grants
        }
    }

    public struct Grant: Sendable, Hashable {
        public var resource: String
        public var action: GrantAction
        public init(resource: String, action: GrantAction) {
            self.resource = resource
            self.action = action
        }
    }

    public struct Resource: Sendable, Equatable {
        public var key: String
        public var name: String
        public var owner: String?
        public var tier: ResourceTier
        /// Where the resource is reached: hosts (`api.stripe.com`, `*.internal.example`) or URL
        /// prefixes (`https://vault.example/v1/`). What an agent granted this resource may call.
        public var endpoints: [String]
        /// The fields a hand-written file stated for it, as bits in `InventoryFields` order (edge
        /// lists too; an explicit null counts as stated). nil: every field, as sources and programs give them.
        public var stated: UInt64? = nil
        public init(key: String, name: String? = nil, owner: String? = nil, tier: ResourceTier, endpoints: [String] = []) {
            self.endpoints = endpoints
            self.key = key
            self.name = name ?? key
            self.owner = owner
            self.tier = tier
        }
    }
}
