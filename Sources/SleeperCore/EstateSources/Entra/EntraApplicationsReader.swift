import Foundation

/// Reads Microsoft Entra applications or service principals as Microsoft Graph lists them
/// (`GET /applications` or `/servicePrincipals`: `{"value": [...]}`). Each client secret
/// (`passwordCredentials`) becomes a credential `entra:APPID:KEYID` (an OAuth client secret), each
/// certificate (`keyCredentials`) one of kind certificate, with its start and end dates. The
/// secrets themselves are never read (Graph shows only a hint of them, which is not stored).
public enum EntraApplicationsReader {
    public static let edges: Set<String> = []
    public static let fields: [EntityKind: [String]] = [.credentials: ["kind", "provider", "owner", "created_at", "expires_at"]]

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        SourceDocument.read(data, file: file) { root, problems in
            guard let apps = root["value"].elements ?? root.elements else {
                problems.report("value", "is missing: not a Microsoft Graph list of applications or service principals")
                return SourceDocument.refused(file, problems)
            }
            var credentials: [Inventory.Credential] = []
            var tenants: Set<String> = []
            for app in apps {
                problems.refuseNearMisses(
                    app, read: ["appId", "id", "appOwnerOrganizationId", "publisherDomain", "displayName", "passwordCredentials", "keyCredentials"],
                    alsoKnown: ["appDisplayName", "appDescription", "applicationTemplateId"], what: "an application")
                guard let appID = problems.string(app["appId"]) ?? problems.string(app["id"]) else { problems.report(app["appId"].path, "is required"); continue }
                if let tenant = problems.string(app["appOwnerOrganizationId"]) ?? problems.string(app["publisherDomain"]) { tenants.insert(tenant) }
                let owner = problems.string(app["displayName"])
                for (list, kind) in [("passwordCredentials", CredentialKind.oauthClient), ("keyCredentials", .certificate)] {
                    for c in problems.list(app[list]) {
                        problems.refuseNearMisses(
                            c, read: ["keyId", "startDateTime", "endDateTime"],
                            alsoKnown: ["customKeyIdentifier", "displayName", "hint", "secretText", "key", "type", "usage"], what: "a credential")
                        guard let keyID = problems.string(c["keyId"]) else { problems.report(c["keyId"].path, "is required"); continue }
                        let key = SourceKeys.key("entra:", appID, ":", keyID)
                        credentials.append(
                            Inventory.Credential(
                                key: key, kind: kind, provider: "entra", owner: owner,
                                createdAt: problems.date(c["startDateTime"]), expiresAt: problems.date(c["endDateTime"])))
                    }
                }
            }
            let name = source ?? (tenants.count == 1 ? "entra:" + SourceKeys.key(tenants.first ?? "") : "entra:" + SourceKeys.key(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent))
            let origin = SourceOrigin(format: .entra, name: name, fields: fields, edges: edges)
            return ParsedInventory(file: file, origin: origin, inventory: Inventory(credentials: credentials), problems: problems.problems)
        }
    }
}
