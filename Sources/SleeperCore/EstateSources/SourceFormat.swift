import Foundation

/// The formats `sleeper import` reads. Each one but the native format is a source: a system that
/// already knows part of the estate, whose snapshot replaces what it brought before.
public enum SourceFormat: String, CaseIterable, Sendable {
    /// Sleeper's own inventory format (YAML or JSON), written by hand or by a script.
    case sleeper
    /// A CycloneDX 1.5–1.7 BOM (JSON) with `machine-learning-model` and `data` components.
    case cyclonedx
    /// A Hugging Face model card: README.md with YAML front matter, or the front matter alone.
    case huggingFaceCard = "hf-model-card"
    /// The AWS IAM credential report (CSV, 22 columns).
    case awsCredentialReport = "aws-credential-report"
    /// An MCP client configuration: Claude Desktop or Claude Code (`mcpServers`), VS Code (`servers`).
    case mcpConfig = "mcp-config"
    /// An SPDX 3.0.1 JSON-LD document with the AI and Dataset profiles.
    case spdx
    /// Google Cloud service account keys, as the IAM REST API lists them.
    case gcpServiceAccountKeys = "gcp-service-account-keys"
    /// GitHub fine-grained personal access tokens of an organisation, as its REST API lists them.
    case githubTokens = "github-tokens"
    /// Kubernetes service accounts and secrets (`kubectl get serviceaccounts,secrets -A -o json`).
    case kubernetes
    /// Microsoft Entra applications or service principals, as Microsoft Graph lists them.
    case entra

    /// The format of a file, told from its content (its first 64 KB), with the file name as a tie-break.
    public static func detect(_ data: Data, file: String) -> SourceFormat {
        var head = String(decoding: data.prefix(65_536), as: UTF8.self)
        var trimmed = head.drop { $0 == "\u{FEFF}" || $0.isWhitespace }
        // JSON with comments (VS Code's files) may open with one.
        if trimmed.hasPrefix("//") || trimmed.hasPrefix("/*") {
            head = String(decoding: JSONWithComments.plain(Data(head.utf8)), as: UTF8.self)
            trimmed = head.drop { $0 == "\u{FEFF}" || $0.isWhitespace }
        }
        if trimmed.hasPrefix("user,arn,user_creation_time") { return .awsCredentialReport }
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            if head.contains("\"bomFormat\"") && head.contains("CycloneDX") { return .cyclonedx }
            if head.contains("spdx.org/rdf/3.") && head.contains("\"@graph\"") { return .spdx }
            // An inventory section is a field holding a list (`"agents": [`), not any mention of the word.
            if head.contains(/"(models|datasets|agents|credentials|resources)"\s*:\s*\[/) { return .sleeper }
            if head.contains("\"mcpServers\"") || head.contains("\"servers\"") { return .mcpConfig }
            if head.contains("\"keyType\"") && head.contains("/serviceAccounts/") { return .gcpServiceAccountKeys }
            if head.contains("\"token_id\"") && head.contains("\"token_name\"") { return .githubTokens }
            if head.contains("\"passwordCredentials\"") || head.contains("\"keyCredentials\"") { return .entra }
            if head.contains("\"ServiceAccount\"") || head.contains("kubernetes.io/service-account-token") { return .kubernetes }
            return .sleeper
        }
        if trimmed.hasPrefix("---") && (file.lowercased().hasSuffix(".md") || HuggingFaceCardReader.looksLikeCard(head)) { return .huggingFaceCard }
        if !trimmed.hasPrefix("---"), HuggingFaceCardReader.looksLikeCard(head),
            !EntityKind.allCases.contains(where: { head.contains("\($0.rawValue):") })
        {
            return .huggingFaceCard
        }
        return .sleeper
    }
}

/// Where a parsed file came from, and what it speaks for.
public struct SourceOrigin: Sendable {
    public var format: SourceFormat
    /// The source's name: what a later snapshot of the same system is matched by.
    public var name: String
    /// The entity fields this format provides; on entities that exist already, only these are
    /// updated, so that what was written by hand beside them stands.
    public var fields: [EntityKind: [String]]
    /// The edge lists this format knows (table names); the others are left as they are.
    public var edges: Set<String>
    /// Entities the file names but does not describe (a base model by its id): created when
    /// missing, never changed when present.
    public var stubs: Inventory
    /// What the source showed that is not imported: reported to the user (a root account, a
    /// secret written into a config). Never holds secret values.
    public var findings: [String]
    /// Secrets written into the file as they are (never their values): the credential each one
    /// is, and where it was written. The import records each as a failed SLP-ROTATION.
    public var literalSecrets: [LiteralSecret] = []

    public struct LiteralSecret: Sendable, Equatable {
        public var credential: String
        /// `FILE: PATH` (`claude_desktop_config.json: mcpServers.github.env.GITHUB_TOKEN`).
        public var location: String
        public init(credential: String, location: String) { (self.credential, self.location) = (credential, location) }
    }

    public init(
        format: SourceFormat, name: String, fields: [EntityKind: [String]], edges: Set<String>,
        stubs: Inventory = Inventory(), findings: [String] = []
    ) {
        self.format = format
        self.name = name
        self.fields = fields
        self.edges = edges
        self.stubs = stubs
        self.findings = findings
    }
}

extension ParsedInventory {
    /// A source's snapshot as a parsed file: references located by `site` (the owner's place in
    /// the file, by key; only readers whose entities refer to others give one), so
    /// that the import's checks (duplicates, references, lineage cycles) treat it like any file.
    public init(
        file: String, origin: SourceOrigin, inventory: Inventory, problems: [InventoryProblem],
        site: (String) -> String = { _ in "" }
    ) {
        var definitions: [EntityKind: [String: DocumentPath]] = [:]
        var references: [InventoryReference] = []
        // One location per kind (a key defined twice is named with its file): spelling out a
        // line for each of a million report rows cost a second and is never shown.
        let located: [EntityKind: DocumentPath] = Dictionary(uniqueKeysWithValues: EntityKind.allCases.map { ($0, .named($0.rawValue)) })
        for (kind, count) in [
            (EntityKind.models, inventory.models.count), (.datasets, inventory.datasets.count), (.agents, inventory.agents.count),
            (.credentials, inventory.credentials.count), (.resources, inventory.resources.count),
        ] where count > 0 {
            definitions[kind] = Dictionary(minimumCapacity: count)
        }
        func define(_ kind: EntityKind, _ key: String) { definitions[kind]?[key] = located[kind] }
        func refer(_ kind: EntityKind, _ key: String, from ownerKind: EntityKind, _ owner: String) {
            references.append(InventoryReference(kind: kind, key: key, file: file, location: .named(site(owner))))
        }
        for whole in [inventory] {
            whole.models.forEach { define(.models, $0.key) }
            whole.datasets.forEach { define(.datasets, $0.key) }
            whole.agents.forEach { define(.agents, $0.key) }
            whole.credentials.forEach { define(.credentials, $0.key) }
            whole.resources.forEach { define(.resources, $0.key) }
        }
        for m in inventory.models {
            m.derivedFrom.forEach { refer(.models, $0.model, from: .models, m.key) }
            m.trainedOn.forEach { refer(.datasets, $0, from: .models, m.key) }
        }
        for a in inventory.agents {
            a.usesModels.forEach { refer(.models, $0, from: .agents, a.key) }
            a.delegatesTo.forEach { refer(.agents, $0, from: .agents, a.key) }
            a.holds.forEach { refer(.credentials, $0.credential, from: .agents, a.key) }
        }
        for c in inventory.credentials { c.grants.forEach { refer(.resources, $0.resource, from: .credentials, c.key) } }
        self.init(file: file, inventory: inventory, definitions: definitions, references: references, problems: problems)
        self.source = origin
    }
}
