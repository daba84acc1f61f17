import Foundation

/// Reads a complete official MITRE ATLAS data file into a framework edition of its own:
/// tactics, techniques, sub-techniques, mitigations and the links between them.
///
/// Two formats exist. Releases up to 5.x have `matrices[]` holding `tactics`, `techniques` and
/// `mitigations` lists, with `subtechnique-of` on techniques and `techniques: [{id, use}]` on
/// mitigations. From 2026 the data has `format-version` 6, a `collection` with a calendar version,
/// objects keyed by ID, and a `relationships` list (`achieves`, `specializes`, `mitigates`, …).
public enum AtlasReader {
    public static func read(_ data: Data, file: String) -> Result<Framework, InventoryProblems> {
        let root: DocumentValue
        do { root = try DocumentLoader.load(data, file: file) } catch { return .failure(InventoryProblems([error])) }
        let c = ProblemCollector(file: file, checksSecrets: false)
        let cursor = DocumentCursor(value: root, path: "")
        let framework = cursor["format-version"].isMissing ? readMatrices(cursor, c) : readRelationships(cursor, c)
        guard let framework, c.problems.isEmpty else {
            return .failure(InventoryProblems(c.problems.isEmpty ? [InventoryProblem(file: file, path: "", message: "is not an ATLAS data file")] : c.problems))
        }
        return .success(framework)
    }

    /// The framework ID a full import is stored under, beside the shipped subset (`atlas`).
    public static func frameworkID(version: String) -> String { "atlas-full-\(version)" }

    // MARK: 5.x

    static func readMatrices(_ root: DocumentCursor, _ c: ProblemCollector) -> Framework? {
        guard let version = c.string(root["version"], required: true) else { return nil }
        var items: [FrameworkItem] = []
        var seen: Set<String> = []
        func add(_ item: FrameworkItem, at path: String) {
            if seen.insert(item.id).inserted {
                items.append(item)
            } else if item.kind != "tactic" {
                c.report(path, "duplicate ID '\(item.id)'")
            }
        }
        for matrix in c.list(root["matrices"]) {
            for t in c.list(matrix["tactics"]) {
                guard let id = c.string(t["id"], required: true) else { continue }
                add(FrameworkItem(id: id, name: c.string(t["name"]) ?? id, description: "", kind: "tactic"), at: t.path)
            }
            for t in c.list(matrix["techniques"]) {
                guard let id = c.string(t["id"], required: true) else { continue }
                let parent = c.string(t["subtechnique-of"])
                add(
                    FrameworkItem(
                        id: id, name: c.string(t["name"]) ?? id, description: "",
                        kind: parent == nil ? "technique" : "sub-technique", parent: parent), at: t.path)
            }
            for m in c.list(matrix["mitigations"]) {
                guard let id = c.string(m["id"], required: true) else { continue }
                // Only `techniques` holds links. In 5.6.0, AML.M0018 and AML.M0034 also carry a stray
                // technique entry inside `ml-lifecycle`, which is a list of phase names: ignore it.
                let links = c.list(m["techniques"]).compactMap { link -> String? in
                    if case .string(let s)? = link.value { return s }
                    return c.string(link["id"])
                }
                add(
                    FrameworkItem(
                        id: id, name: c.string(m["name"]) ?? id, description: "", kind: "mitigation",
                        mitigates: Array(Set(links)).sorted()), at: m.path)
            }
        }
        return finish(id: frameworkID(version: version), name: c.string(root["name"]) ?? "MITRE ATLAS", version: version, items: items, c)
    }

    // MARK: format-version 6

    static func readRelationships(_ root: DocumentCursor, _ c: ProblemCollector) -> Framework? {
        let collection = root["collection"]
        guard let version = c.string(collection["version"], required: true) else { return nil }
        var items: [String: FrameworkItem] = [:]
        // Objects keyed by ID, either under `objects` or in per-type sections.
        for section in ["objects", "tactics", "techniques", "mitigations"] {
            for (id, _) in (root[section].fields ?? [:]) {
                let object = root[section][id]
                let type = c.string(object["object-type"]) ?? c.string(object["type"]) ?? String(section.dropLast())
                items[id] = FrameworkItem(id: id, name: c.string(object["name"]) ?? id, description: "", kind: type)
            }
        }
        for relation in c.list(root["relationships"]) {
            guard let type = c.string(relation["type"], required: true),
                let source = c.string(relation["source"]) ?? c.string(relation["source_id"]),
                let target = c.string(relation["target"]) ?? c.string(relation["target_id"])
            else {
                if !relation["type"].isMissing { c.report(relation.path, "a relationship needs source and target") }
                continue
            }
            guard items[source] != nil, items[target] != nil else {
                c.report(relation.path, "relationship '\(type)' between unknown objects '\(source)' and '\(target)'")
                continue
            }
            switch type {
            case "specializes":
                items[source]!.parent = target
                items[source]!.kind = "sub-technique"
            case "mitigates":
                items[source]!.mitigates.append(target)
            default:
                break  // achieves (technique → tactic), employs, sequences: not needed for governance
            }
        }
        let name = c.string(collection["name"]) ?? "MITRE ATLAS"
        return finish(
            id: frameworkID(version: version), name: name, version: version,
            items: items.values.sorted { $0.id < $1.id }, c)
    }

    static func finish(id: String, name: String, version: String, items: [FrameworkItem], _ c: ProblemCollector) -> Framework? {
        let ids = Set(items.map(\.id))
        for item in items {
            if let parent = item.parent, !ids.contains(parent) { c.report(item.id, "sub-technique of unknown technique '\(parent)'") }
        }
        // Links to techniques outside the file are dropped by the official data's own consumers; so here.
        let cleaned = items.map { item -> FrameworkItem in
            var item = item
            item.mitigates = item.mitigates.filter(ids.contains)
            return item
        }
        return Framework(
            id: id, name: "\(name) (complete)", edition: version, source: "https://atlas.mitre.org/",
            licence: "Apache-2.0", items: cleaned)
    }
}
