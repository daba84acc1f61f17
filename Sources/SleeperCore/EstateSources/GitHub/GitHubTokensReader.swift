import Foundation

/// Reads GitHub fine-grained personal access tokens with access to an organisation
/// (`GET /orgs/{org}/personal-access-tokens`, a JSON list). Each becomes a credential
/// `github:pat:TOKEN_ID` owned by its user, with its expiry and last use (either may be null:
/// no expiry, never used) and its permissions as scopes (`repository:contents:write`).
public enum GitHubTokensReader {
    public static let edges: Set<String> = []
    public static let fields: [EntityKind: [String]] = [.credentials: ["kind", "provider", "owner", "scopes", "created_at", "expires_at", "last_used_at", "state"]]

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        SourceDocument.read(data, file: file) { root, problems in
            guard let grants = root.elements else {
                problems.report("", "must be a list of token grants (GET /orgs/{org}/personal-access-tokens)")
                return SourceDocument.refused(file, problems)
            }
            var credentials: [Inventory.Credential] = []
            for g in grants {
                problems.refuseNearMisses(
                    g,
                    read: [
                        "token_id", "id", "owner", "permissions", "repository_selection", "access_granted_at", "token_expires_at",
                        "token_last_used_at", "token_expired",
                    ],
                    alsoKnown: ["token_name", "repositories_url"], what: "a token grant")
                guard let id = problems.integer(g["token_id"]) ?? problems.integer(g["id"]) else { problems.report(g["token_id"].path, "is required"); continue }
                let key = "github:pat:\(id)"
                var scopes: [String] = []
                for group in ["organization", "repository", "other"] {
                    for (permission, _) in (g["permissions"][group].fields ?? [:]).sorted(by: { $0.key < $1.key }) {
                        scopes.append("\(group):\(permission):\(problems.string(g["permissions"][group][permission]) ?? "?")")
                    }
                }
                if let selection = problems.string(g["repository_selection"]) { scopes.append("repositories:\(selection)") }
                var credential = Inventory.Credential(
                    key: key, kind: .personalAccessToken, provider: "github", owner: problems.string(g["owner"]["login"]),
                    scopes: scopes, createdAt: problems.date(g["access_granted_at"]),
                    expiresAt: problems.date(g["token_expires_at"]), lastUsedAt: problems.date(g["token_last_used_at"]))
                // GitHub says whether the token still works; an expired one is kept, not live.
                if problems.bool(g["token_expired"]) == true { credential.state = .expired }
                credentials.append(credential)
            }
            let name = source ?? "github:" + SourceKeys.key(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
            let origin = SourceOrigin(format: .githubTokens, name: name, fields: fields, edges: edges)
            return ParsedInventory(file: file, origin: origin, inventory: Inventory(credentials: credentials), problems: problems.problems)
        }
    }
}
