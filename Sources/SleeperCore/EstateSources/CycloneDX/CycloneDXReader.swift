import Foundation

/// Reads a CycloneDX 1.5–1.7 BOM (JSON): `machine-learning-model` components become models,
/// `data` components and a model card's datasets become datasets; lineage comes from
/// `pedigree.ancestors` and from `dependencies` between models, training from `dependencies`
/// on data and from `modelCard.modelParameters.datasets`.
///
/// CycloneDX has no field for how a model was derived; the relation is read from a
/// `base_model_relation` property (as AI-BOM generators write Hugging Face's), and is otherwise
/// `unknown`, which scoring treats as the most transferring relation.
public enum CycloneDXReader {
    public static let edges: Set<String> = ["derived_from", "trained_on"]
    public static let fields: [EntityKind: [String]] = [
        .models: ["name", "supplier", "third_party", "digest", "training_data_declared"],
        .datasets: ["name"],
    ]

    /// A component's fields Sleeper reads, and the specification's others (1.5–1.7).
    static let componentFields: Set<String> = [
        "type", "name", "group", "version", "bom-ref", "supplier", "publisher", "manufacturer", "pedigree",
        "modelCard", "hashes", "properties", "components",
    ]
    static let otherComponentFields: Set<String> = [
        "mime-type", "author", "authors", "scope", "licenses", "copyright", "cpe", "purl", "omniborId", "swhid",
        "swid", "modified", "externalReferences", "evidence", "releaseNotes", "data", "cryptoProperties",
        "tags", "signature", "description",
    ]

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        SourceDocument.read(data, file: file) { root, problems in
            guard problems.string(root["bomFormat"]) == "CycloneDX" else {
                problems.report("bomFormat", "is not \"CycloneDX\": this is not a CycloneDX BOM")
                return SourceDocument.refused(file, problems)
            }
            let version = problems.string(root["specVersion"]) ?? ""
            if !["1.5", "1.6", "1.7"].contains(version) {
                problems.report("specVersion", "'\(version)' is not a version read here (1.5, 1.6, 1.7)")
            }
            // Every component, nested ones included, by its bom-ref.
            var components: [(cursor: DocumentCursor, type: String)] = []
            func collect(_ list: DocumentCursor) {
                for c in problems.list(list) {
                    components.append((c, problems.string(c["type"]) ?? ""))
                    if !c["components"].isMissing { collect(c["components"]) }
                }
            }
            collect(root["components"])
            let bomSupplier =
                problems.string(root["metadata"]["supplier"]["name"]) ?? problems.string(root["metadata"]["manufacturer"]["name"])
                ?? problems.string(root["metadata"]["component"]["supplier"]["name"])

            var keyByRef: [String: (kind: EntityKind, key: String)] = [:]
            for (c, type) in components where type == "machine-learning-model" || type == "data" {
                let key = componentKey(c, problems)
                if let ref = problems.string(c["bom-ref"]) { keyByRef[ref] = (type == "data" ? .datasets : .models, key) }
            }

            var inventory = Inventory()
            var stubs = Inventory()
            var sites: [String: String] = [:]
            var lineage: [String: [Inventory.Derivation]] = [:], training: [String: [String]] = [:]
            for (c, type) in components where type == "machine-learning-model" || type == "data" {
                let key = componentKey(c, problems)
                sites[key] = c.path
                problems.refuseNearMisses(c, read: Self.componentFields, alsoKnown: Self.otherComponentFields, what: "a CycloneDX component")
                let name = problems.string(c["name"]) ?? key
                if type == "data" {
                    inventory.datasets.append(Inventory.Dataset(key: key, name: name))
                    continue
                }
                let supplier = problems.string(c["supplier"]["name"]) ?? problems.string(c["publisher"]) ?? problems.string(c["manufacturer"]["name"])
                let relation = relationProperty(c, problems)
                for ancestor in problems.list(c["pedigree"]["ancestors"]) {
                    // An ancestor that names a component of this BOM by its bom-ref is that
                    // component, however it is written (often without its version): one entity.
                    let parent =
                        problems.string(ancestor["bom-ref"]).flatMap { keyByRef[$0] }.flatMap { $0.kind == .models ? $0.key : nil }
                        ?? componentKey(ancestor, problems)
                    if keyByRef.values.contains(where: { $0 == (.models, parent) }) == false, !stubs.models.contains(where: { $0.key == parent }) {
                        stubs.models.append(Inventory.Model(key: parent, name: problems.string(ancestor["name"]) ?? parent, thirdParty: true))
                    }
                    // Each distinct parent once.
                    if parent != key, lineage[key]?.contains(where: { $0.model == parent }) != true {
                        lineage[key, default: []].append(.init(model: parent, relation: relation))
                    }
                }
                for (i, d) in problems.list(c["modelCard"]["modelParameters"]["datasets"]).enumerated() {
                    if let ref = problems.string(d["ref"]) {
                        if let target = keyByRef[ref], target.kind == .datasets {
                            training[key, default: []].append(target.key)
                        } else {
                            problems.report(d["ref"].path, "names no data component of this BOM ('\(ref)')")
                        }
                    } else {
                        let datasetKey = SourceKeys.key(key, "/data/", problems.string(d["name"]) ?? String(i))
                        if !inventory.datasets.contains(where: { $0.key == datasetKey }) {
                            inventory.datasets.append(Inventory.Dataset(key: datasetKey, name: problems.string(d["name"]) ?? datasetKey))
                            sites[datasetKey] = d.path
                        }
                        training[key, default: []].append(datasetKey)
                    }
                }
                var model = Inventory.Model(
                    key: key, name: name, supplier: supplier,
                    thirdParty: supplier == nil || bomSupplier == nil || supplier != bomSupplier,
                    digest: sha256(c, problems))
                model.trainingDataDeclared = !problems.list(c["modelCard"]["modelParameters"]["datasets"]).isEmpty
                inventory.models.append(model)
            }
            for d in problems.list(root["dependencies"]) {
                guard let ref = problems.string(d["ref"]), let from = keyByRef[ref], from.kind == .models else { continue }
                let relation = components.first { problems.string($0.cursor["bom-ref"]) == ref }.map { relationProperty($0.cursor, problems) } ?? .unknown
                for target in problems.list(d["dependsOn"]).compactMap({ problems.string($0) }).compactMap({ keyByRef[$0] }) {
                    if target.kind == .models, target.key != from.key, lineage[from.key]?.contains(where: { $0.model == target.key }) != true {
                        lineage[from.key, default: []].append(.init(model: target.key, relation: relation))
                    } else if target.kind == .datasets, training[from.key]?.contains(target.key) != true {
                        training[from.key, default: []].append(target.key)
                    }
                }
            }
            for i in inventory.models.indices {
                inventory.models[i].derivedFrom = lineage[inventory.models[i].key] ?? []
                inventory.models[i].trainedOn = training[inventory.models[i].key] ?? []
                if !inventory.models[i].trainedOn.isEmpty { inventory.models[i].trainingDataDeclared = true }
            }
            let name = source ?? "cyclonedx:" + SourceKeys.key(problems.string(root["metadata"]["component"]["name"]) ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
            let origin = SourceOrigin(format: .cyclonedx, name: name, fields: fields, edges: edges, stubs: stubs)
            return ParsedInventory(file: file, origin: origin, inventory: inventory, problems: problems.problems) { key in sites[key] ?? "components" }
        }
    }

    /// `group/name@version`, the component's identity across BOMs.
    static func componentKey(_ c: DocumentCursor, _ problems: ProblemCollector) -> String {
        let group = problems.string(c["group"]).map { $0 + "/" }
        let version = problems.string(c["version"]).map { "@" + $0 }
        let key = SourceKeys.key(group, problems.string(c["name"]) ?? problems.string(c["bom-ref"]) ?? "unnamed", version)
        return key.isEmpty ? "unnamed" : key
    }

    /// The first SHA-256 hash, as `sha256:<hex>`.
    static func sha256(_ c: DocumentCursor, _ problems: ProblemCollector) -> String? {
        for h in problems.list(c["hashes"]) where problems.string(h["alg"])?.uppercased() == "SHA-256" {
            if let content = problems.string(h["content"])?.lowercased() {
                guard content.count == 64, content.allSatisfy({ $0.isHexDigit }) else {
                    problems.report(h["content"].path, "is not a SHA-256 (64 hexadecimal digits)")
                    return nil
                }
                return "sha256:" + content
            }
        }
        return nil
    }

    /// A `base_model_relation` property (any namespace prefix), else unknown.
    static func relationProperty(_ c: DocumentCursor, _ problems: ProblemCollector) -> DerivationRelation {
        for p in problems.list(c["properties"]) {
            guard let name = problems.string(p["name"]), name == "base_model_relation" || name.hasSuffix(":base_model_relation") else { continue }
            let value = problems.string(p["value"]) ?? ""
            if let relation = DerivationRelation(rawValue: value.lowercased()) { return relation }
            problems.report(p["value"].path, "'\(value)' is not a relation Sleeper knows (\(DerivationRelation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return .unknown
    }

}
