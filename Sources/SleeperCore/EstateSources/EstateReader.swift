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
        if let name = parsed.source?.name, !InventoryReader.isValidKey(name) {
            parsed.problems.append(InventoryProblem(file: file, path: "", message: "source name '\(name)' must start with a letter or digit and hold only letters, digits and . _ : / @ + - (at most 200)"))
        }
        return parsed
    }

    /// What a source brings is stored as text (keys, names, suppliers, owners): refuse any of it
    /// that is secret material, without repeating it. Only these fields are checked, so a model
    /// card's prose or a base64 image in a BOM is not mistaken for a key.
    static func secrets(in parsed: ParsedInventory) -> [InventoryProblem] {
        var found: [InventoryProblem] = []
        // Values repeat (an owner with two keys; keys are built from ids the other fields hold):
        // each distinct text is judged once. A key is judged by its `:`-separated parts, as it is
        // made of the source's ids; a part too short to be a token costs nothing.
        var judged: [String: Bool] = [:]
        func secret(_ value: String, _ field: String) -> Bool {
            // Most values cannot be a token at all (an account number, a short name): no lookup.
            guard SecretScanner.mayHoldSecret(value) else { return false }
            if let known = judged[value] { return known }
            let verdict = SecretScanner.secretKind(of: value, field: field) != nil
            judged[value] = verdict
            return verdict
        }
        func check(_ kind: EntityKind, _ key: String, _ values: [(String, String?)]) {
            let keyIsSecret = key.split(separator: ":").contains { $0.utf8.count >= 12 && secret(String($0), "key") }
            if keyIsSecret {
                found.append(InventoryProblem(file: parsed.file, path: "key", message: "a \(kind.singular) key looks like secret material; the value is not shown and nothing was written"))
            }
            for (field, value) in values {
                guard let value, value.utf8.count >= 12, secret(value, field) else { continue }
                let entity = keyIsSecret ? "" : " of \(kind.singular) '\(key)'"
                found.append(InventoryProblem(file: parsed.file, path: field, message: "\(field)\(entity) looks like secret material; the value is not shown and nothing was written"))
            }
        }
        for whole in [parsed.inventory] + (parsed.source.map { [$0.stubs] } ?? []) {
            whole.models.forEach { check(.models, $0.key, [("name", $0.name), ("supplier", $0.supplier)]) }
            whole.datasets.forEach { check(.datasets, $0.key, [("name", $0.name)]) }
            whole.agents.forEach { check(.agents, $0.key, [("name", $0.name)]) }
            whole.credentials.forEach { check(.credentials, $0.key, [("owner", $0.owner)]) }
        }
        return found
    }
}
