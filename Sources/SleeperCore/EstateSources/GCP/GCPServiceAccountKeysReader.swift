import Foundation

/// Reads Google Cloud service account keys as the IAM REST API lists them
/// (`projects.serviceAccounts.keys.list`: `{"keys": [...]}`, or several such answers in a list).
/// User-managed keys become credentials `gcp:PROJECT:ACCOUNT:KEYID`; a `validBeforeTime` in year
/// 9999 means no expiry; a key disabled as exposed or compromised, or whose extended status says
/// KEY_EXPOSED, is exposed. A disabled key is imported with its state (`disabled`: it scores 0,
/// and it is listed apart); system-managed keys (Google rotates them) are reported, not imported.
public enum GCPServiceAccountKeysReader {
    public static let edges: Set<String> = []
    public static let fields: [EntityKind: [String]] = [.credentials: ["kind", "provider", "owner", "created_at", "expires_at", "exposed", "state"]]

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        SourceDocument.read(data, file: file) { root, problems in
            let pages = root.elements ?? [root]
            var credentials: [Inventory.Credential] = []
            var projects: Set<String> = [], systemManaged = 0, disabled = 0
            for page in pages {
                guard let keys = page["keys"].elements else {
                    problems.report(page.path.isEmpty ? "keys" : page.path + ".keys", "is missing: not a service account keys listing (projects.serviceAccounts.keys.list)")
                    continue
                }
                for k in keys {
                    problems.refuseNearMisses(
                        k, read: ["name", "keyType", "disableReason", "extendedStatus", "disabled", "validBeforeTime", "validAfterTime"],
                        alsoKnown: ["keyAlgorithm", "keyOrigin", "privateKeyType", "privateKeyData", "publicKeyData", "contact", "description"],
                        what: "a service account key")
                    guard let name = problems.string(k["name"]) else { problems.report(k["name"].path, "is required"); continue }
                    let parts = name.split(separator: "/").map(String.init)
                    guard parts.count == 6, parts[0] == "projects", parts[2] == "serviceAccounts", parts[4] == "keys" else {
                        problems.report(k["name"].path, "is not projects/P/serviceAccounts/SA/keys/ID")
                        continue
                    }
                    if problems.string(k["keyType"]) == "SYSTEM_MANAGED" { systemManaged += 1; continue }
                    let reason = problems.string(k["disableReason"]) ?? ""
                    let statuses = problems.list(k["extendedStatus"]).compactMap { problems.string($0["key"]) }
                    let exposed = reason.hasSuffix("_EXPOSED") || reason.hasSuffix("_COMPROMISE_DETECTED") || statuses.contains { $0.hasSuffix("KEY_EXPOSED") }
                    let isDisabled = problems.bool(k["disabled"]) == true
                    if isDisabled { disabled += 1 }
                    projects.insert(parts[1])
                    let before = problems.date(k["validBeforeTime"])
                    let never = before.map { Calendar(identifier: .gregorian).component(.year, from: $0) >= 9999 } ?? true
                    let key = SourceKeys.key("gcp:", parts[1], ":", parts[3], ":", parts[5])
                    var credential = Inventory.Credential(
                        key: key, kind: .serviceAccount, provider: "gcp", owner: parts[3],
                        createdAt: problems.date(k["validAfterTime"]), expiresAt: never ? nil : before, exposed: exposed)
                    credential.state = isDisabled ? .disabled : .active
                    credentials.append(credential)
                }
            }
            var findings: [String] = []
            if systemManaged > 0 { findings.append("\(systemManaged) system-managed key(s) (rotated by Google) not imported") }
            if disabled > 0 { findings.append("\(disabled) disabled key(s) imported as disabled: not live, scored 0, listed apart") }
            let name = source ?? (projects.count == 1 ? "gcp:\(projects.first ?? "")" : "gcp:" + SourceKeys.key(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent))
            let origin = SourceOrigin(format: .gcpServiceAccountKeys, name: name, fields: fields, edges: edges, findings: findings)
            return ParsedInventory(file: file, origin: origin, inventory: Inventory(credentials: credentials), problems: problems.problems)
        }
    }
}
