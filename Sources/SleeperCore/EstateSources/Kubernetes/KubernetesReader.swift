import Foundation

/// Reads `kubectl get serviceaccounts,secrets -A -o json`. A service account becomes a credential
/// `k8s:NAMESPACE:NAME`: a workload identity (federated, kind `workload_identity`) when an
/// annotation binds it to a cloud identity, else a service account. A legacy token Secret
/// (`kubernetes.io/service-account-token`) becomes `k8s:NAMESPACE:secret/NAME`, a long-lived token
/// with its last use from the `kubernetes.io/legacy-token-last-used` label; one marked invalid
/// (`kubernetes.io/legacy-token-invalid-since`) is reported, not imported. Secret values are never
/// read.
public enum KubernetesReader {
    public static let edges: Set<String> = []
    public static let fields: [EntityKind: [String]] = [.credentials: ["kind", "provider", "owner", "created_at", "last_used_at"]]
    /// Annotations that bind a service account to a cloud identity (workload identity federation).
    static let federation = ["eks.amazonaws.com/role-arn", "iam.gke.io/gcp-service-account", "azure.workload.identity/client-id"]

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        SourceDocument.read(data, file: file) { root, problems in
            guard let items = root["items"].elements else {
                problems.report("items", "is missing: not a kubectl list (kubectl get serviceaccounts,secrets -A -o json)")
                return SourceDocument.refused(file, problems)
            }
            var credentials: [Inventory.Credential] = [], invalid = 0
            for item in items {
                let kind = problems.string(item["kind"]) ?? ""
                let meta = item["metadata"]
                problems.refuseNearMisses(
                    item, read: ["kind", "metadata", "type"], alsoKnown: ["apiVersion", "data", "stringData", "secrets", "imagePullSecrets", "automountServiceAccountToken"],
                    what: "a Kubernetes object")
                problems.refuseNearMisses(
                    meta, read: ["name", "namespace", "creationTimestamp", "annotations", "labels"],
                    alsoKnown: [
                        "uid", "resourceVersion", "generation", "generateName", "managedFields", "ownerReferences", "finalizers", "selfLink",
                        "deletionTimestamp", "deletionGracePeriodSeconds",
                    ], what: "an object's metadata")
                guard let name = problems.string(meta["name"]) else { problems.report(meta["name"].path, "is required"); continue }
                let namespace = problems.string(meta["namespace"]) ?? "default"
                let created = problems.date(meta["creationTimestamp"])
                let annotations = meta["annotations"].fields ?? [:]
                let labels = meta["labels"]
                switch kind {
                case "ServiceAccount":
                    let federated = federation.contains { annotations[$0] != nil }
                    let key = SourceKeys.key("k8s:", namespace, ":", name)
                    credentials.append(
                        Inventory.Credential(
                            key: key, kind: federated ? .workloadIdentity : .serviceAccount, provider: "kubernetes",
                            owner: problems.string(labels["owner"]) ?? namespace, createdAt: created))
                case "Secret" where problems.string(item["type"]) == "kubernetes.io/service-account-token":
                    if !labels["kubernetes.io/legacy-token-invalid-since"].isMissing { invalid += 1; continue }
                    let account = problems.string(meta["annotations"]["kubernetes.io/service-account.name"])
                    let key = SourceKeys.key("k8s:", namespace, ":secret/", name)
                    credentials.append(
                        Inventory.Credential(
                            key: key, kind: .serviceAccount, provider: "kubernetes",
                            owner: account.map { "\(namespace)/\($0)" } ?? namespace, createdAt: created,
                            lastUsedAt: problems.string(labels["kubernetes.io/legacy-token-last-used"]).flatMap(Timestamps.day)))
                default:
                    continue
                }
            }
            let findings = invalid > 0 ? ["\(invalid) legacy token secret(s) already invalidated, not imported"] : []
            let name = source ?? "kubernetes:" + SourceKeys.key(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
            let origin = SourceOrigin(format: .kubernetes, name: name, fields: fields, edges: edges, findings: findings)
            return ParsedInventory(file: file, origin: origin, inventory: Inventory(credentials: credentials), problems: problems.problems)
        }
    }
}
