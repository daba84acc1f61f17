import Foundation

/// Reads one file of any format `sleeper import` knows, told from its content unless `format`
/// says which; `source` names the source its snapshot belongs to (each format has a default).
public enum EstateReader {
    public static func read(_ data: Data, file: String, format: SourceFormat? = nil, source: String? = nil, lenient: Bool = false) -> ParsedInventory {
        let format = format ?? SourceFormat.detect(data, file: file)
        var parsed: ParsedInventory
        switch format {
        case .sleeper: return InventoryReader.readAll(data, file: file, lenient: lenient)
        case .cyclonedx: parsed = CycloneDXReader.read(data, file: file, source: source)
        case .huggingFaceCard: parsed = HuggingFaceCardReader.read(data, file: file, source: source)
        case .awsCredentialReport: parsed = AWSCredentialReportReader.read(data, file: file, source: source)
        case .mcpConfig: parsed = MCPConfigReader.read(data, file: file, source: source)
        case .spdx: parsed = SPDXReader.read(data, file: file, source: source)
        case .gcpServiceAccountKeys: parsed = GCPServiceAccountKeysReader.read(data, file: file, source: source)
        case .githubTokens: parsed = GitHubTokensReader.read(data, file: file, source: source)
        case .kubernetes: parsed = KubernetesReader.read(data, file: file, source: source)
        case .entra: parsed = EntraApplicationsReader.read(data, file: file, source: source)
        }
        parsed.problems += secrets(in: parsed)
        if let name = parsed.source?.name {
            if let kind = SecretScanner.secretKind(of: name, field: "name") {
                parsed.problems.append(InventoryProblem(file: file, path: "", message: "the source name looks like secret material (\(kind)); the value is not shown and nothing was written"))
            } else if !InventoryReader.isValidKey(name) {
                parsed.problems.append(
                    InventoryProblem(file: file, path: "", message: "source name '\(name)' must start with a letter or digit and hold only letters, digits and . _ : / @ + - (at most 200)"))
            }
        }
        return parsed
    }

    /// What a source brings is stored as text — keys, names, suppliers, owners, scopes (a
    /// permission's name), endpoints, tools, providers: every string an entity holds is refused
    /// when it is secret material, without repeating it. Only what is stored is checked, so a
    /// model card's prose or a base64 image in a BOM is not mistaken for a key.
    static func secrets(in parsed: ParsedInventory) -> [InventoryProblem] {
        var found: [InventoryProblem] = []
        // Values repeat (an owner with two keys; keys are built from ids the other fields hold):
        // each distinct text is judged once. A key is judged by its `:`-separated parts, as it is
        // made of the source's ids; a part too short to be a token costs nothing.
        var judged: [String: Bool] = [:]
        func secret(_ value: String, _ field: String) -> Bool {
            // Most values cannot be a token at all (an account number, a short name): no lookup.
            guard value.utf8.count >= 12, SecretScanner.mayHoldSecret(value) else { return false }
            if let known = judged[value] { return known }
            let verdict = SecretScanner.secretKind(of: value, field: field) != nil
            judged[value] = verdict
            return verdict
        }
        func check(_ kind: EntityKind, _ key: String, _ entity: Any) {
            let keyIsSecret = secret(key, "key") || key.split(separator: ":").contains { $0.utf8.count >= 12 && secret(String($0), "key") }
            if keyIsSecret {
                found.append(InventoryProblem(file: parsed.file, path: "key", message: "a \(kind.singular) key looks like secret material; the value is not shown and nothing was written"))
            }
            var reported: Set<String> = []
            StoredText.visit(entity) { field, value in
                guard field != "key", secret(value, field), reported.insert(field).inserted else { return }
                let entity = keyIsSecret ? "" : " of \(kind.singular) '\(key)'"
                found.append(InventoryProblem(file: parsed.file, path: field, message: "\(field)\(entity) looks like secret material; the value is not shown and nothing was written"))
            }
        }
        for whole in [parsed.inventory] + (parsed.source.map { [$0.stubs] } ?? []) {
            whole.models.forEach { check(.models, $0.key, $0) }
            whole.datasets.forEach { check(.datasets, $0.key, $0) }
            whole.agents.forEach { check(.agents, $0.key, $0) }
            whole.credentials.forEach { check(.credentials, $0.key, $0) }
            whole.resources.forEach { check(.resources, $0.key, $0) }
        }
        return found
    }
}

/// Every text a value holds, with the name of the field it sits in (snake_case, as the
/// inventory format names it): strings, optional strings and lists of them, in nested values
/// too. One walk serves every entity kind, so a field added later is checked without being listed.
enum StoredText {
    static func visit(_ value: Any, field: String = "", _ body: (String, String) -> Void) {
        switch value {
        case let text as String: body(field, text)
        case let texts as [String]: texts.forEach { body(field, $0) }
        case is Date, is Bool, is Int, is Double: return
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                if let some = mirror.children.first { visit(some.value, field: field, body) }
                return
            }
            if mirror.displayStyle == .enum, mirror.children.isEmpty { return }
            for child in mirror.children {
                visit(child.value, field: child.label.map(snake) ?? field, body)
            }
        }
    }

    static func snake(_ name: String) -> String {
        var out = ""
        for c in name {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}
