import Foundation

/// A reference from one entity to another, kept with its location so that a dangling one
/// can be reported where it was written.
public struct InventoryReference: Sendable, Hashable {
    public var kind: EntityKind
    public var key: String
    public var file: String
    public var location: DocumentPath
    public var path: String { location.description }
}

/// One file's entities, with where each key was defined and every reference it makes.
public struct ParsedInventory: Sendable {
    public var file: String
    public var inventory: Inventory
    public var definitions: [EntityKind: [String: DocumentPath]]  // key → where it is defined
    public var references: [InventoryReference]
    /// Problems found in this file alone. The import still checks references and lineage so that
    /// one run reports everything, then refuses the whole import if any were found.
    public var problems: [InventoryProblem] = []
    /// What a lenient read let through (unknown fields), to be shown but not to stop the import.
    public var warnings: [InventoryProblem] = []
    /// Where the file came from when it is not the native format: the source that owns what it
    /// brings, what of each entity it speaks for, and what it only names.
    public var source: SourceOrigin?
}

/// Reads the native inventory format (YAML or JSON, same shape) into typed records,
/// collecting every problem in the file rather than stopping at the first.
public enum InventoryReader {
    /// Keys: a letter or digit, then letters, digits and `. _ : / @ + -`, at most 200 characters.
    /// Checked byte by byte: a large import has hundreds of thousands of keys and references.
    public static func isValidKey(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard !utf8.isEmpty, utf8.count <= 200 else { return false }
        for (i, b) in utf8.enumerated() {
            let alphanumeric = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
            if alphanumeric { continue }
            if i == 0 { return false }
            switch b {
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "-"): continue
            default: return false
            }
        }
        return true
    }

    /// The file's entities, or every problem in it.
    public static func read(_ data: Data, file: String, lenient: Bool = false) -> Result<ParsedInventory, InventoryProblems> {
        let parsed = readAll(data, file: file, lenient: lenient)
        return parsed.problems.isEmpty ? .success(parsed) : .failure(InventoryProblems(parsed.problems))
    }

    /// The file's valid entities together with its problems, for an import that reports all at once.
    /// With `lenient`, unknown fields are warnings instead of problems.
    public static func readAll(_ data: Data, file: String, lenient: Bool = false) -> ParsedInventory {
        if let streamed = InventoryStreamReader.read(data, file: file, lenient: lenient) { return streamed }
        let tree: DocumentValue
        do { tree = try DocumentLoader.load(data, file: file) } catch {
            return ParsedInventory(file: file, inventory: Inventory(), definitions: [:], references: [], problems: [error])
        }
        let parsed = read(tree: tree, file: file, lenient: lenient)
        // The tree is freed on another thread: taking apart a million-credential tree is a
        // noticeable part of an import, and nothing needs to wait for it.
        let owned = consume tree
        DispatchQueue.global(qos: .utility).async { withExtendedLifetime(owned) {} }
        return parsed
    }

    /// A document loaded whole (YAML, or JSON of another shape): read by the same batches and
    /// checks as a JSON file streamed, so the two cannot disagree.
    static func read(tree: DocumentValue, file: String, lenient: Bool = false) -> ParsedInventory {
        InventoryStreamReader.read(tree: tree, file: file, lenient: lenient)
    }

    struct Walker {
        let collector: ProblemCollector
        /// Where unknown fields are reported: `collector`, or a list of warnings when lenient.
        let unknownFields: ProblemCollector
        var definitions: [EntityKind: [String: DocumentPath]] = [:]
        var references: [InventoryReference] = []

        init(collector: ProblemCollector, unknownFields: ProblemCollector? = nil) {
            self.collector = collector
            self.unknownFields = unknownFields ?? collector
        }

        /// Reports every field of `c` that the format does not know, with the one it probably
        /// meant; `labels` must be a mapping.
        func checkFields(_ c: DocumentCursor, _ known: Set<String>, what: String) {
            guard let fields = c.fields else { return }
            // Most entities have only known fields: look before sorting (a million credentials and
            // three million edges pass through here).
            guard fields.keys.contains(where: { !known.contains($0) }) else { return }
            for field in fields.keys.sorted() where !known.contains(field) {
                if field == "labels" {
                    if c[field].fields == nil { collector.report(c[field].path, "must be a mapping of names to values") }
                    continue
                }
                if FieldNames.isCustom(field) { continue }
                // Fields that may hold secrets are reported by the secret scan, once.
                if SecretScanner.forbiddenFieldNames.contains(field.lowercased()) { continue }
                let hint = FieldNames.suggestion(for: field, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                unknownFields.report(c[field].path, "is not a field of \(what)\(hint); put custom data under labels: or in a key starting with x-")
            }
        }

        /// The fields an entry states (present, null included), as `InventoryFields` bits.
        static func stated(_ c: DocumentCursor, _ kind: EntityKind) -> UInt64 {
            guard let fields = c.fields else { return 0 }
            var bits: UInt64 = 0
            for (i, name) in InventoryFields.order(kind).enumerated() where fields[name] != nil { bits |= 1 << UInt64(i) }
            return bits
        }

        mutating func key(_ c: DocumentCursor, kind: EntityKind) -> String? {
            guard let key = collector.string(c["key"], required: true) else { return nil }
            guard validKey(key, at: c["key"]) else { return nil }
            if let earlier = definitions[kind]?[key] {
                collector.report(c["key"].path, "duplicate key '\(key)' (already defined at \(earlier))")
                return nil
            }
            definitions[kind, default: [:]][key] = c["key"].location
            return key
        }

        func validKey(_ key: String, at c: DocumentCursor) -> Bool {
            if !InventoryReader.isValidKey(key) {
                collector.report(c.path, "'\(key)' is not a valid key (letters, digits and . _ : / @ + -, at most 200 characters)")
                return false
            }
            return true
        }

        mutating func reference(_ c: DocumentCursor, to kind: EntityKind) -> String? {
            guard let key = collector.string(c, required: true), validKey(key, at: c) else { return nil }
            references.append(InventoryReference(kind: kind, key: key, file: collector.file, location: c.location))
            return key
        }

        /// Reports a second mention of the same target in one edge list.
        func unique<T: Hashable>(_ items: [(T, DocumentPath)], what: String) -> [T] {
            var seen: Set<T> = []
            var out: [T] = []
            for (item, path) in items {
                if seen.insert(item).inserted { out.append(item) } else { collector.report(path.description, "\(what) is listed twice") }
            }
            return out
        }

        mutating func resource(_ c: DocumentCursor) -> Inventory.Resource? {
            guard collector.object(c) else { return nil }
            checkFields(c, FieldNames.resource, what: "a resource")
            let key = key(c, kind: .resources)
            let tierValue = collector.integer(c["tier"], range: 0...3)
            if c["tier"].isMissing { collector.report(c["tier"].path, "is required (0 crown jewels … 3 low value)") }
            let name = collector.string(c["name"])
            let owner = collector.string(c["owner"])
            let endpoints = self.endpoints(c["endpoints"])
            guard let key, let tierValue, let tier = ResourceTier(rawValue: tierValue) else { return nil }
            var resource = Inventory.Resource(key: key, name: name, owner: owner, tier: tier, endpoints: endpoints)
            resource.stated = Self.stated(c, .resources)
            return resource
        }

        mutating func dataset(_ c: DocumentCursor) -> Inventory.Dataset? {
            guard collector.object(c) else { return nil }
            checkFields(c, FieldNames.dataset, what: "a dataset")
            let key = key(c, kind: .datasets)
            let name = collector.string(c["name"])
            let owner = collector.string(c["owner"])
            let provenance = collector.enumeration(c["provenance"], DatasetProvenance.self)
            guard let key else { return nil }
            var dataset = Inventory.Dataset(key: key, name: name, owner: owner, provenance: provenance ?? .unknown)
            dataset.stated = Self.stated(c, .datasets)
            return dataset
        }

        mutating func model(_ c: DocumentCursor) -> Inventory.Model? {
            guard collector.object(c) else { return nil }
            checkFields(c, FieldNames.model, what: "a model")
            let key = key(c, kind: .models)
            var parents: [(Inventory.Derivation, DocumentPath)] = []
            for p in collector.list(c["derived_from"]) where collector.object(p) {
                checkFields(p, FieldNames.derivation, what: "a derived_from entry")
                let parent = reference(p["model"], to: .models)
                let relation = collector.enumeration(p["relation"], DerivationRelation.self)
                if p["relation"].isMissing { collector.report(p["relation"].path, "is required") }
                if let parent, parent == key { collector.report(p["model"].path, "a model cannot derive from itself") }
                if let parent, let relation { parents.append((Inventory.Derivation(model: parent, relation: relation), p["model"].location)) }
            }
            let datasets = collector.list(c["trained_on"]).compactMap { d in reference(d, to: .datasets).map { ($0, d.location) } }
            let trainedOn = unique(datasets, what: "dataset")
            if let digest = collector.string(c["digest"]), let problem = SecretScanner.digestProblem(digest) {
                collector.report(c["digest"].path, problem)
            }
            var model = Inventory.Model(
                key: key ?? "",
                name: collector.string(c["name"]),
                supplier: collector.string(c["supplier"]),
                owner: collector.string(c["owner"]),
                // Not stated is not first-party: an unknown supplier relationship counts as the risk.
                thirdParty: collector.bool(c["third_party"]) ?? true,
                digest: collector.string(c["digest"]),
                signed: collector.bool(c["signed"]) ?? false,
                serialization: collector.enumeration(c["serialization"], Serialization.self) ?? .unknown,
                lineageVerified: collector.bool(c["lineage_verified"]) ?? false,
                // Listing the datasets is declaring them, unless the file says otherwise.
                trainingDataDeclared: collector.bool(c["training_data_declared"]) ?? !trainedOn.isEmpty,
                derivedFrom: uniqueBy(parents, \.model, what: "parent model"),
                trainedOn: trainedOn)
            model.stated = Self.stated(c, .models)
            for alias in collector.list(c["same_as"]) {
                guard let other = collector.string(alias) else { continue }
                if !InventoryReader.isValidKey(other) {
                    collector.report(alias.path, "'\(other)' is not a valid model key")
                } else if other == key {
                    collector.report(alias.path, "a model is not the same as another model by its own key")
                } else if model.sameAs.contains(other) {
                    collector.report(alias.path, "'\(other)' is listed twice")
                } else {
                    model.sameAs.append(other)
                }
            }
            if !c["signers"].isMissing {
                var signers: [String] = []
                for s in collector.list(c["signers"]) {
                    guard let signer = collector.string(s) else { continue }
                    if let problem = SignerName.problem(signer) {
                        collector.report(s.path, problem)
                    } else if signers.contains(signer) {
                        collector.report(s.path, "'\(signer)' is listed twice")
                    } else {
                        signers.append(signer)
                    }
                }
                model.signers = signers
            }
            // Listing the datasets states whether training data is declared.
            if model.stated! & InventoryFields.bit(.models, "trained_on") != 0 { model.stated! |= InventoryFields.bit(.models, "training_data_declared") }
            return key == nil ? nil : model
        }

        func uniqueBy<T>(_ items: [(T, DocumentPath)], _ id: KeyPath<T, String>, what: String) -> [T] {
            var seen: Set<String> = []
            var out: [T] = []
            for (item, path) in items {
                if seen.insert(item[keyPath: id]).inserted { out.append(item) } else { collector.report(path.description, "\(what) '\(item[keyPath: id])' is listed twice") }
            }
            return out
        }

        mutating func credential(_ c: DocumentCursor) -> Inventory.Credential? {
            guard collector.object(c) else { return nil }
            checkFields(c, FieldNames.credential, what: "a credential")
            let key = key(c, kind: .credentials)
            var grants: [(Inventory.Grant, DocumentPath)] = []
            for g in collector.list(c["grants"]) where collector.object(g) {
                checkFields(g, FieldNames.grant, what: "a grant")
                let resource = reference(g["resource"], to: .resources)
                let action = collector.enumeration(g["action"], GrantAction.self)
                if g["action"].isMissing { collector.report(g["action"].path, "is required") }
                if let resource, let action { grants.append((Inventory.Grant(resource: resource, action: action), g.location)) }
            }
            let scopes = collector.list(c["scopes"]).compactMap { collector.string($0) }
            let created = collector.date(c["created_at"])
            let expires = collector.date(c["expires_at"])
            if let created, let expires, expires < created {
                collector.report(c["expires_at"].path, "is before created_at")
            }
            let ttl = collector.integer(c["ttl_seconds"], range: 1...Int(Int32.max))
            var credential = Inventory.Credential(
                key: key ?? "",
                kind: credentialKind(c["kind"]) ?? .other,
                provider: collector.string(c["provider"]),
                owner: collector.string(c["owner"]),
                fingerprint: collector.string(c["fingerprint"]),
                scopes: scopes,
                createdAt: created,
                lastRotatedAt: collector.date(c["last_rotated_at"]),
                expiresAt: expires,
                lastUsedAt: collector.date(c["last_used_at"]),
                ttlSeconds: ttl,
                exposed: collector.bool(c["exposed"]) ?? false,
                grants: unique(grants.map { ($0.0, $0.1) }, what: "grant"))
            credential.state = collector.enumeration(c["state"], CredentialState.self) ?? .active
            credential.stated = Self.stated(c, .credentials)
            if let fp = credential.fingerprint, let problem = SecretScanner.fingerprintProblem(fp) {
                collector.report(c["fingerprint"].path, problem)
            }
            return key == nil ? nil : credential
        }

        /// A kind, or a name other sources use for one (`pat`, `service_account_key`).
        func credentialKind(_ c: DocumentCursor) -> CredentialKind? {
            guard let raw = collector.string(c) else { return nil }
            if let kind = CredentialKind(lenient: raw) { return kind }
            collector.report(
                c.path,
                "'\(raw)' is not a credential kind: one of \(CredentialKind.allCases.map(\.rawValue).joined(separator: ", ")) "
                    + "(names such as pat, service_account_key, access_key_id or oidc are read as their kind)")
            return nil
        }

        /// A list of hosts or http(s) URL prefixes; anything else is reported with its path.
        mutating func endpoints(_ c: DocumentCursor) -> [String] {
            collector.list(c).compactMap { e -> String? in
                guard let text = collector.string(e) else { return nil }
                guard RuntimeEnvelope.isEndpoint(text) else {
                    collector.report(e.path, "'\(text)' is not a host (api.example.com, *.example.com, 10.0.0.5) or an http(s) URL prefix")
                    return nil
                }
                return text
            }
        }

        /// Absent or null: the agent's tools are not declared (a listing writes null for them).
        static func undeclared(_ c: DocumentCursor) -> Bool {
            if c.isMissing { return true }
            if case .null? = c.value { return true }
            return false
        }

        mutating func agent(_ c: DocumentCursor) -> Inventory.Agent? {
            guard collector.object(c) else { return nil }
            checkFields(c, FieldNames.agent, what: "an agent")
            let key = key(c, kind: .agents)
            let models = collector.list(c["uses_models"]).compactMap { m in reference(m, to: .models).map { ($0, m.location) } }
            let delegates = collector.list(c["delegates_to"]).compactMap { d -> (String, DocumentPath)? in
                guard let target = reference(d, to: .agents) else { return nil }
                if target == key { collector.report(d.path, "an agent cannot delegate to itself") }
                return (target, d.location)
            }
            var holds: [(Inventory.Holding, DocumentPath)] = []
            for h in collector.list(c["holds"]) where collector.object(h) {
                checkFields(h, FieldNames.holding, what: "a holds entry")
                let credential = reference(h["credential"], to: .credentials)
                let delivery = collector.enumeration(h["delivery"], Delivery.self)
                if h["delivery"].isMissing { collector.report(h["delivery"].path, "is required") }
                if let credential, let delivery { holds.append((Inventory.Holding(credential: credential, delivery: delivery), h["credential"].location)) }
            }
            var agent = Inventory.Agent(
                key: key ?? "",
                name: collector.string(c["name"]),
                owner: collector.string(c["owner"]),
                inputTrust: collector.enumeration(c["input_trust"], InputTrust.self) ?? .untrusted,
                usesModels: unique(models, what: "model"),
                delegatesTo: unique(delegates, what: "delegate"),
                holds: uniqueBy(holds, \.credential, what: "credential"),
                tools: Self.undeclared(c["tools"]) ? nil : collector.list(c["tools"]).compactMap { collector.string($0) },
                endpoints: endpoints(c["endpoints"]),
                traceNames: collector.list(c["trace_names"]).compactMap { collector.string($0) })
            agent.stated = Self.stated(c, .agents)
            return key == nil ? nil : agent
        }
    }
}
