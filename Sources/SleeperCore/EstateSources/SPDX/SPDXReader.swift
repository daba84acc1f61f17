import Foundation

/// Reads an SPDX 3.0.1 document in JSON-LD with the AI and Dataset profiles: `ai_AIPackage`
/// elements become models, `dataset_DatasetPackage` elements datasets; `trainedOn` relationships
/// become training edges, `ancestorOf` and `descendantOf` lineage. SPDX does not say how a model
/// was derived, so lineage has the relation `unknown`.
public enum SPDXReader {
    /// An AI-BOM says what a CycloneDX one says: the same fields and edge lists.
    public static let edges = CycloneDXReader.edges
    public static let fields = CycloneDXReader.fields

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        SourceDocument.read(data, file: file) { root, problems in
            let context = problems.string(root["@context"]) ?? ""
            guard context.contains("spdx.org/rdf/3."), let graph = root["@graph"].elements else {
                problems.report("@context", "is not SPDX 3 JSON-LD (expected @context https://spdx.org/rdf/3.0.1/spdx-context.jsonld and an @graph)")
                return SourceDocument.refused(file, problems)
            }
            var byID: [String: DocumentCursor] = [:]
            for element in graph { if let id = problems.string(element["spdxId"]) { byID[id] = element } }
            func type(_ e: DocumentCursor) -> String { problems.string(e["type"]) ?? "" }
            func key(_ e: DocumentCursor) -> String {
                let name = problems.string(e["name"]) ?? problems.string(e["spdxId"]) ?? "unnamed"
                return SourceKeys.key(name, problems.string(e["software_packageVersion"]).map { "@" + $0 })
            }
            var inventory = Inventory()
            var keyByID: [String: (kind: EntityKind, key: String)] = [:], sites: [String: String] = [:]
            for element in graph {
                problems.refuseNearMisses(
                    element, read: ["spdxId", "type", "name", "software_packageVersion", "suppliedBy", "verifiedUsing", "from", "to", "relationshipType"],
                    alsoKnown: ["@id", "@type", "creationInfo", "comment", "summary", "description"], what: "an SPDX element")
                guard let id = problems.string(element["spdxId"]) else { continue }
                switch type(element) {
                case "ai_AIPackage":
                    let k = key(element)
                    keyByID[id] = (.models, k)
                    sites[k] = element.path
                    let supplier = problems.string(element["suppliedBy"]).flatMap { byID[$0] }.flatMap { problems.string($0["name"]) }
                    var digest: String?
                    for h in problems.list(element["verifiedUsing"]) where problems.string(h["algorithm"])?.lowercased() == "sha256" {
                        if let value = problems.string(h["hashValue"])?.lowercased(), value.count == 64, value.allSatisfy(\.isHexDigit) { digest = "sha256:" + value }
                    }
                    inventory.models.append(Inventory.Model(key: k, name: problems.string(element["name"]) ?? k, supplier: supplier, thirdParty: true, digest: digest))
                case "dataset_DatasetPackage":
                    let k = key(element)
                    keyByID[id] = (.datasets, k)
                    sites[k] = element.path
                    inventory.datasets.append(Inventory.Dataset(key: k, name: problems.string(element["name"]) ?? k))
                default: break
                }
            }
            var lineage: [String: [Inventory.Derivation]] = [:], training: [String: [String]] = [:]
            for element in graph where type(element) == "Relationship" {
                guard let from = problems.string(element["from"]).flatMap({ keyByID[$0] }) else { continue }
                let targets = (element["to"].elements ?? []).compactMap { problems.string($0) }.compactMap { keyByID[$0] }
                switch problems.string(element["relationshipType"]) ?? "" {
                case "trainedOn" where from.kind == .models:
                    for t in targets where t.kind == .datasets { training[from.key, default: []].append(t.key) }
                case "descendantOf" where from.kind == .models:
                    for t in targets where t.kind == .models { lineage[from.key, default: []].append(.init(model: t.key, relation: .unknown)) }
                case "ancestorOf" where from.kind == .models:
                    for t in targets where t.kind == .models { lineage[t.key, default: []].append(.init(model: from.key, relation: .unknown)) }
                default: break
                }
            }
            for i in inventory.models.indices {
                let k = inventory.models[i].key
                var seen: Set<String> = []
                inventory.models[i].derivedFrom = (lineage[k] ?? []).filter { seen.insert($0.model).inserted }
                inventory.models[i].trainedOn = Array(Set(training[k] ?? [])).sorted()
                inventory.models[i].trainingDataDeclared = !(training[k] ?? []).isEmpty
            }
            let document = graph.first { type($0) == "SpdxDocument" }.flatMap { problems.string($0["name"]) }
            let name = source ?? "spdx:" + SourceKeys.key(document ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
            let origin = SourceOrigin(format: .spdx, name: name, fields: fields, edges: edges)
            return ParsedInventory(file: file, origin: origin, inventory: inventory, problems: problems.problems) { key in sites[key] ?? "@graph" }
        }
    }
}
