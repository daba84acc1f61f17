/// Enumerations of the inventory format. Their raw values are the words used in files,
/// in the database `CHECK` constraints and in JSON output; the three must agree.

public enum DatasetProvenance: String, CaseIterable, Sendable, Codable {
    case unknown
    case publicScraped = "public_scraped"
    case curatedScreened = "curated_screened"
}

public enum InputTrust: String, CaseIterable, Sendable, Codable {
    case untrusted, `internal`, fixed
}

public enum Delivery: String, CaseIterable, Sendable, Codable {
    case runtimeEnv = "runtime_env"
    case toolHeld = "tool_held"
    case brokered, federated
}

public enum GrantAction: String, CaseIterable, Sendable, Codable {
    case read, write, exec, admin
}

public enum DerivationRelation: String, CaseIterable, Sendable, Codable {
    case finetune, adapter, merge, quantized, distill
    /// A source that says a model descends from another but not how (CycloneDX's pedigree):
    /// scored as the relation that carries the most (see `relation_transfer`).
    case unknown
}

/// How a model's weights are stored. Which of these count as unsafe is scoring data, not code.
public enum Serialization: String, CaseIterable, Sendable, Codable {
    case safetensors, gguf, onnx, pickle, pytorch, joblib
    case kerasH5 = "keras_h5"
    case savedModel = "saved_model"
    case other, unknown
}

public enum CredentialKind: String, CaseIterable, Sendable, Codable {
    case apiKey = "api_key"
    case accessKey = "access_key"
    case serviceAccount = "service_account"
    case oauthClient = "oauth_client"
    case oauthToken = "oauth_token"
    case personalAccessToken = "personal_access_token"
    case sshKey = "ssh_key"
    case certificate
    case workloadIdentity = "workload_identity"
    case databasePassword = "database_password"
    case other
}

extension CredentialKind {
    /// Names other sources give the canonical kinds: a connector that says `pat` or
    /// `service_account_key` means a kind Sleeper knows.
    public static let aliases: [String: CredentialKind] = [
        "apikey": .apiKey, "api_token": .apiKey, "key": .apiKey,
        "access_key_id": .accessKey, "aws_access_key": .accessKey, "iam_access_key": .accessKey,
        "service_account_key": .serviceAccount, "sa_key": .serviceAccount, "gcp_service_account": .serviceAccount, "service_principal": .serviceAccount,
        "oauth": .oauthClient, "oauth_app": .oauthClient, "client_credentials": .oauthClient, "app_registration": .oauthClient,
        "access_token": .oauthToken, "refresh_token": .oauthToken, "bearer_token": .oauthToken,
        "pat": .personalAccessToken, "github_pat": .personalAccessToken, "personal_token": .personalAccessToken,
        "ssh": .sshKey, "deploy_key": .sshKey,
        "cert": .certificate, "x509": .certificate, "tls_certificate": .certificate, "client_certificate": .certificate,
        "workload": .workloadIdentity, "oidc": .workloadIdentity, "federated": .workloadIdentity, "managed_identity": .workloadIdentity,
        "db_password": .databasePassword, "password": .databasePassword, "database_credential": .databasePassword,
    ]

    /// A kind by its name or an alias, case and `-` or space for `_` forgiven.
    public init?(lenient text: String) {
        if let exact = CredentialKind(rawValue: text) { self = exact; return }
        let name = text.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        guard let kind = CredentialKind(rawValue: name) ?? Self.aliases[name] else { return nil }
        self = kind
    }
}

/// Whether a credential still works, as its source says: a disabled, revoked or expired one is
/// stored with its state, listed apart, and never scored as live (its score is 0 for that reason).
public enum CredentialState: String, CaseIterable, Sendable, Codable {
    case active, disabled, revoked, expired

    public var isLive: Bool { self == .active }
}

public enum ResourceTier: Int, CaseIterable, Sendable, Codable {
    case crownJewel = 0, high = 1, moderate = 2, low = 3
}

/// The five kinds of inventory entity, named as they are in files and on the command line.
public enum EntityKind: String, CaseIterable, Sendable, Codable {
    case models, datasets, agents, credentials, resources

    /// The singular used in `KIND:KEY` subject references (`model:gpt-x`).
    public var singular: String { String(rawValue.dropLast()) }
}

extension EntityKind {
    /// The table of a subject kind: every subject kind is an entity kind.
    public init(subjects kind: SubjectKind) {
        switch kind {
        case .model: self = .models
        case .dataset: self = .datasets
        case .agent: self = .agents
        case .credential: self = .credentials
        }
    }
}
