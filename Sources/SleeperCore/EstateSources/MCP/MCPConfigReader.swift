import Foundation

/// Reads an MCP client configuration: Claude Desktop's `claude_desktop_config.json` and Claude
/// Code's `.mcp.json` (`mcpServers`), Claude Code's `~/.claude.json` (`projects.<path>.mcpServers`),
/// VS Code's `mcp.json` (`servers`) and its user or workspace `settings.json` (`mcp.servers`,
/// beside the editor's other settings).
///
/// The client is an agent (`mcp:NAME`); each server is an agent it delegates to
/// (`mcp:NAME/SERVER`), since a server acts on the client's requests; a remote server's `url` is
/// its endpoint, which puts it inside the client's runtime envelope. An `env` or `headers` value
/// that references a variable (`${PAYMENTS_API_KEY}`, `${env:X}`, `${input:x}`) becomes a credential
/// named after the variable (`env:PAYMENTS_API_KEY`), held by the server at run time. A value
/// that is itself a secret is never stored: it is reported (secret material in an MCP config,
/// OWASP NHI2), and the credential it stands for is imported as exposed
/// (`mcp:NAME/SERVER/KEY`), since anyone who can read the file holds it.
public enum MCPConfigReader {
    public static let edges: Set<String> = ["delegates_to", "holds"]
    public static let fields: [EntityKind: [String]] = [
        .agents: ["name", "input_trust", "endpoints"],
        .credentials: ["kind", "exposed"],
    ]

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        // VS Code writes its files as JSON with comments and trailing commas.
        SourceDocument.read(JSONWithComments.plain(data), file: file) { root, problems in
            var blocks: [DocumentCursor] = []
            for field in ["mcpServers", "servers"] where !root[field].isMissing { blocks.append(root[field]) }
            if !root["mcp"]["servers"].isMissing { blocks.append(root["mcp"]["servers"]) }
            for (path, _) in (root["projects"].fields ?? [:]).sorted(by: { $0.key < $1.key }) where !root["projects"][path]["mcpServers"].isMissing {
                blocks.append(root["projects"][path]["mcpServers"])
            }
            guard !blocks.isEmpty else {
                problems.report("", "has no mcpServers, servers, mcp.servers or projects.*.mcpServers: not an MCP client configuration")
                return SourceDocument.refused(file, problems)
            }
            let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let name = source ?? "mcp:" + SourceKeys.key(base)
            let clientKey = SourceKeys.key(name.hasPrefix("mcp:") ? name : "mcp:" + name)
            var client = Inventory.Agent(key: clientKey, name: "MCP client (\(URL(fileURLWithPath: file).lastPathComponent))", inputTrust: .untrusted)
            var agents: [Inventory.Agent] = [], credentials: [String: Inventory.Credential] = [:]
            var findings: [String] = [], sites: [String: String] = [clientKey: ""]
            var literal: [SourceOrigin.LiteralSecret] = []
            for block in blocks {
                for (serverName, _) in (block.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let server = block[serverName]
                    guard server.fields != nil else { problems.report(server.path, "must be a mapping (command, args, env; or url, headers)"); continue }
                    let serverKey = SourceKeys.key(clientKey, "/", serverName)
                    guard !agents.contains(where: { $0.key == serverKey }) else { continue }
                    sites[serverKey] = server.path
                    problems.refuseNearMisses(server, read: Self.serverFields, alsoKnown: Self.otherServerFields, what: "an MCP server")
                    var agent = Inventory.Agent(key: serverKey, name: "MCP server \(serverName)", inputTrust: .untrusted)
                    // A remote server (http, sse) is reached at its URL: the client may call it there.
                    if case .string(let url)? = server["url"].value, RuntimeEnvelope.isEndpoint(url) {
                        // Credentials in the URL (a password, `?api_key=…`) are a literal secret like
                        // any other: reported, held as an exposed credential, and never stored —
                        // the endpoint keeps the scheme, host, port and path only.
                        let (endpoint, secretParts) = Self.endpoint(url)
                        agent.endpoints = [endpoint]
                        if !secretParts.isEmpty {
                            findings.append(
                                "\(file): \(server["url"].path): credentials in an MCP server URL (\(secretParts.joined(separator: ", "))); the value is not stored — move them to a secret store and send them as a header referencing ${VAR}"
                            )
                            let key = SourceKeys.key(serverKey, "/url")
                            literal.append(.init(credential: key, location: "\(file): \(server["url"].path)"))
                            credentials[key] = Inventory.Credential(key: key, kind: secretParts.contains("a password") ? .databasePassword : .apiKey, exposed: true)
                            sites[key] = server["url"].path
                            agent.holds.append(.init(credential: key, delivery: .runtimeEnv))
                        }
                    }
                    for part in ["env", "headers"] {
                        for (field, _) in (server[part].fields ?? [:]).sorted(by: { $0.key < $1.key }) {
                            guard let value = problems.string(server[part][field], secretsAllowed: true) else { continue }
                            if let variable = Self.variable(in: value) {
                                let key = SourceKeys.key("env:", variable)
                                credentials[key] = credentials[key] ?? Inventory.Credential(key: key, kind: Self.kind(variable), provider: nil)
                                sites[key] = server[part][field].path
                                agent.holds.append(.init(credential: key, delivery: .runtimeEnv))
                            } else if Self.looksSecret(field: field, value: value) {
                                findings.append(
                                    "\(file): \(server[part][field].path): secret material in an MCP config (OWASP NHI2); the value is not stored — move it to a secret store and reference it as ${VAR}"
                                )
                                let key = SourceKeys.key(serverKey, "/", field)
                                literal.append(.init(credential: key, location: "\(file): \(server[part][field].path)"))
                                credentials[key] = Inventory.Credential(key: key, kind: Self.kind(field), exposed: true)
                                sites[key] = server[part][field].path
                                agent.holds.append(.init(credential: key, delivery: .runtimeEnv))
                            }
                        }
                    }
                    client.delegatesTo.append(serverKey)
                    agents.append(agent)
                }
            }
            var origin = SourceOrigin(format: .mcpConfig, name: name, fields: fields, edges: edges, findings: findings)
            origin.literalSecrets = literal
            let inventory = Inventory(agents: [client] + agents, credentials: credentials.values.sorted { $0.key < $1.key })
            return ParsedInventory(file: file, origin: origin, inventory: inventory, problems: problems.problems) { key in sites[key] ?? "" }
        }
    }

    /// A server entry's fields Sleeper reads, and those of the clients' formats it leaves alone.
    static let serverFields: Set<String> = ["command", "args", "env", "url", "headers"]
    static let otherServerFields: Set<String> = [
        "type", "cwd", "envFile", "disabled", "autoApprove", "alwaysAllow", "timeout", "transport",
        "description", "trust", "includeTools", "excludeTools", "oauth", "gallery", "version",
    ]

    /// Query parameters whose name says they carry a credential.
    static let secretParameters: Set<String> = [
        "api_key", "apikey", "api-key", "key", "token", "access_token", "auth", "auth_token",
        "secret", "client_secret", "password", "pwd", "sig", "signature", "code",
    ]

    /// A remote server's URL as it is stored (no user, password, query or fragment), and what
    /// credentials it carried: `a password`, `a user name`, the query parameters that hold one.
    static func endpoint(_ url: String) -> (String, [String]) {
        guard var parts = URLComponents(string: url) else { return (url, SecretScanner.secretKind(of: url, field: "url").map { [$0] } ?? []) }
        var secret: [String] = []
        if parts.password != nil { secret.append("a password") } else if parts.user != nil { secret.append("a user name") }
        for item in parts.queryItems ?? [] {
            let name = item.name.lowercased()
            if secretParameters.contains(name) || SecretScanner.forbiddenFieldNames.contains(name)
                || item.value.map({ SecretScanner.secretKind(of: $0, field: name) != nil || SecretScanner.secretKind(of: "\(item.name)=\($0)", field: name) != nil }) == true
            {
                secret.append("query parameter \(item.name)")
            }
        }
        if SecretScanner.secretKind(of: parts.path, field: "url") != nil { secret.append("the path"); parts.path = "" }
        parts.user = nil; parts.password = nil; parts.query = nil; parts.fragment = nil
        return (parts.string ?? url, secret)
    }

    /// The variable a value refers to, when the whole value (or a `Bearer` value) is a reference:
    /// `${VAR}`, `${VAR:-default}`, `${env:VAR}`, `${input:id}`, `$VAR`.
    static func variable(in value: String) -> String? {
        var text = value.trimmingCharacters(in: .whitespaces)
        if text.lowercased().hasPrefix("bearer ") { text = String(text.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        if text.hasPrefix("${"), text.hasSuffix("}") {
            var inner = String(text.dropFirst(2).dropLast())
            for prefix in ["env:", "input:"] where inner.hasPrefix(prefix) { inner = String(inner.dropFirst(prefix.count)) }
            if let cut = inner.range(of: ":-") { inner = String(inner[..<cut.lowerBound]) }
            return inner.isEmpty ? nil : inner
        }
        if text.hasPrefix("$"), text.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), text.count > 1 { return String(text.dropFirst()) }
        return nil
    }

    /// A literal that is a secret: recognised by its shape, or a long value under a name that says so.
    static func looksSecret(field: String, value: String) -> Bool {
        if SecretScanner.secretKind(of: value, field: field) != nil { return true }
        let name = field.uppercased()
        let secretName = ["KEY", "TOKEN", "SECRET", "PASSWORD", "AUTHORIZATION", "CREDENTIAL"].contains { name.contains($0) }
        return secretName && value.count >= 8 && !value.contains(" ") || (name == "AUTHORIZATION" && value.count >= 8)
    }

    /// The kind a variable's name suggests.
    static func kind(_ name: String) -> CredentialKind {
        let n = name.uppercased()
        if n.contains("PERSONAL_ACCESS_TOKEN") || n.hasSuffix("_PAT") || n.contains("GITHUB_TOKEN") { return .personalAccessToken }
        if n.contains("PASSWORD") { return .databasePassword }
        if n.contains("ACCESS_KEY") { return .accessKey }
        if n.contains("TOKEN") || n.contains("AUTHORIZATION") { return .oauthToken }
        return .apiKey
    }
}
