import Foundation

/// Everything the scoring model reads, indexed by position so that a million credentials score
/// in memory without dictionary lookups in the inner loops.
public struct ScoringInput: Sendable {
    /// How far valid evidence of a control stands for a subject at the as-of time.
    public struct ControlState: Sendable, Equatable {
        /// 1 in force, falling to 0 over the grace period after expiry; 0 when failed or bound to an old digest.
        public var validity: Double
        public var evidenceID: Int?
        public var expiresAt: Date?
        public var failed: Bool
        /// The model's files a failed record names that nothing has covered since (empty when
        /// the fail is about the whole model).
        public var failedFiles: [String]
        public init(validity: Double, evidenceID: Int? = nil, expiresAt: Date? = nil, failed: Bool = false, failedFiles: [String] = []) {
            self.validity = validity
            self.evidenceID = evidenceID
            self.expiresAt = expiresAt
            self.failed = failed
            self.failedFiles = failedFiles
        }

        /// " (evidence #12)", or " (evidence #12 on tokenizer.pkl)" when the fail is about files.
        public var citation: String {
            guard let evidenceID else { return "" }
            return failedFiles.isEmpty ? " (evidence #\(evidenceID))" : " (evidence #\(evidenceID) on \(failedFiles.joined(separator: ", ")))"
        }
    }

    public struct Model: Sendable {
        public var key: String
        public var supplier: String?
        public var thirdParty: Bool
        /// The organisation's declaration of the model's supplier (`sleeper suppliers`): `own`
        /// or `allowed`, and who declared it. A declared supplier carries no third-party term.
        public var declaredSupplier: (relation: String, by: String)?
        public var lineageVerified: Bool
        public var trainingDataDeclared: Bool
        public var hasDigest: Bool
        public var signed: Bool
        public var serialization: Serialization
        public var parents: [(model: Int, relation: DerivationRelation)]
        public var datasets: [Int]
        public var controls: [String: ControlState]
        /// L* carried from a stored run, for a model outside the part of the estate being rescored:
        /// the model is not recomputed, and its lineage need not be loaded.
        public var carriedLStar: Double?
        /// The main factor stored with `carriedLStar`, which a derived model's own main factor may name.
        public var carriedMain: String?
        /// The standing recall of this model (its id): it counts as certainly compromised.
        public var recall: Int?
        public init(
            key: String, supplier: String? = nil, thirdParty: Bool = false, lineageVerified: Bool = false,
            trainingDataDeclared: Bool = false, hasDigest: Bool = false, signed: Bool = false, serialization: Serialization = .unknown,
            parents: [(model: Int, relation: DerivationRelation)] = [], datasets: [Int] = [], controls: [String: ControlState] = [:]
        ) {
            self.key = key
            self.supplier = supplier
            self.thirdParty = thirdParty
            self.lineageVerified = lineageVerified
            self.trainingDataDeclared = trainingDataDeclared
            self.hasDigest = hasDigest
            self.signed = signed
            self.serialization = serialization
            self.parents = parents
            self.datasets = datasets
            self.controls = controls
        }
    }

    public struct Dataset: Sendable {
        public var key: String
        public var provenance: DatasetProvenance
        /// The standing recall of this dataset: its risk counts as 1.
        public var recall: Int?
        /// A failed check that stands on it (`lineage.failed_controls`), and its evidence: its risk
        /// is held at the check's minimum.
        public var failedControl: String?
        public var failedEvidence: Int?
        public init(key: String, provenance: DatasetProvenance) {
            self.key = key
            self.provenance = provenance
        }
    }

    public struct Agent: Sendable {
        public var key: String
        public var inputTrust: InputTrust
        public var models: [Int]
        /// Agents that delegate to this one: their output is this agent's input.
        public var delegators: [Int]
        public var controls: [String: ControlState]
        /// The standing recall of this agent: B and A count as 1, whatever gates it.
        public var recall: Int?
        public init(key: String, inputTrust: InputTrust, models: [Int] = [], delegators: [Int] = [], controls: [String: ControlState] = [:]) {
            self.key = key
            self.inputTrust = inputTrust
            self.models = models
            self.delegators = delegators
            self.controls = controls
        }
    }

    public struct Credential: Sendable {
        public var key: String
        public var kind: CredentialKind
        public var owner: String?
        public var createdAt: Date?
        public var lastRotatedAt: Date?
        public var expiresAt: Date?
        public var lastUsedAt: Date?
        public var ttlSeconds: Int?
        public var exposed: Bool
        public var holders: [(agent: Int, delivery: Delivery)]
        public var grants: [(resource: Int, action: GrantAction)]
        /// False when its source says it is disabled, revoked or expired: no path reaches it then.
        public var live = true
        /// The holders through which a model's output can use it: none when it is not live.
        public var reachingHolders: [(agent: Int, delivery: Delivery)] { live ? holders : [] }
        public init(
            key: String, kind: CredentialKind = .other, owner: String? = nil, createdAt: Date? = nil, lastRotatedAt: Date? = nil,
            expiresAt: Date? = nil, lastUsedAt: Date? = nil, ttlSeconds: Int? = nil, exposed: Bool = false,
            holders: [(agent: Int, delivery: Delivery)] = [], grants: [(resource: Int, action: GrantAction)] = []
        ) {
            self.key = key
            self.kind = kind
            self.owner = owner
            self.createdAt = createdAt
            self.lastRotatedAt = lastRotatedAt
            self.expiresAt = expiresAt
            self.lastUsedAt = lastUsedAt
            self.ttlSeconds = ttlSeconds
            self.exposed = exposed
            self.holders = holders
            self.grants = grants
        }
    }

    public struct Resource: Sendable {
        public var key: String
        public var tier: ResourceTier
        public init(key: String, tier: ResourceTier) {
            self.key = key
            self.tier = tier
        }
    }

    public var models: [Model]
    public var datasets: [Dataset]
    public var agents: [Agent]
    public var credentials: [Credential]
    public var resources: [Resource]
    public var asOf: Date

    public init(
        models: [Model] = [], datasets: [Dataset] = [], agents: [Agent] = [], credentials: [Credential] = [],
        resources: [Resource] = [], asOf: Date
    ) {
        self.models = models
        self.datasets = datasets
        self.agents = agents
        self.credentials = credentials
        self.resources = resources
        self.asOf = asOf
    }
}
