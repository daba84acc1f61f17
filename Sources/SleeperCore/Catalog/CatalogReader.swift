import Foundation

/// Reads the catalog files of `Controls/`: one file per framework edition, the controls, and the
/// crosswalk. Every broken reference is reported with its file and entry; nothing half-read is used.
public enum CatalogReader {
    public static let controlsFile = "sleeper-controls.yaml"
    public static let crosswalkFile = "crosswalk.yaml"
    /// Files in Controls/ that are not catalogs.
    public static let otherFiles: Set<String> = ["scoring.yaml", "report-rules.yaml", "remediation.yaml"]

    public static func read(files: [(name: String, data: Data)]) -> Result<Catalog, InventoryProblems> {
        var problems: [InventoryProblem] = []
        var catalog = Catalog()
        var crosswalk: (name: String, root: DocumentCursor)?
        for file in files where file.name.hasSuffix(".yaml") && !otherFiles.contains(file.name) {
            let root: DocumentValue
            do { root = try DocumentLoader.load(file.data, file: file.name) } catch { problems.append(error); continue }
            let collector = ProblemCollector(file: file.name, checksSecrets: false)
            let cursor = DocumentCursor(value: root, path: "")
            if file.name == controlsFile {
                catalog.controls = readControls(cursor, collector)
            } else if file.name == crosswalkFile {
                crosswalk = (file.name, cursor)
            } else if let framework = readFramework(cursor, collector) {
                if catalog.frameworks.contains(where: { $0.id == framework.id }) {
                    collector.report("framework.id", "framework '\(framework.id)' is defined by another file too")
                } else {
                    catalog.frameworks.append(framework)
                }
            }
            problems += collector.problems
        }
        if let crosswalk {
            let collector = ProblemCollector(file: crosswalk.name, checksSecrets: false)
            (catalog.mappings, catalog.crosswalkStatement) = readCrosswalk(crosswalk.root, catalog: catalog, collector)
            problems += collector.problems
        }
        return problems.isEmpty ? .success(catalog) : .failure(InventoryProblems(problems))
    }

    /// One framework edition, with its items' references (parent, alias, mitigates) checked.
    public static func readFramework(_ root: DocumentCursor, _ c: ProblemCollector) -> Framework? {
        let head = root["framework"]
        guard c.object(head) else { return nil }
        let id = c.string(head["id"], required: true)
        let name = c.string(head["name"], required: true)
        let edition = c.string(head["edition"], required: true)
        var items: [FrameworkItem] = []
        var seen: [String: String] = [:]
        for entry in c.list(root["items"]) where c.object(entry) {
            guard let itemID = c.string(entry["id"], required: true) else { continue }
            if let earlier = seen[itemID] {
                c.report(entry["id"].path, "duplicate ID '\(itemID)' (already at \(earlier))")
                continue
            }
            seen[itemID] = entry.path
            let aliasOf = c.list(entry["alias_of"]).compactMap { c.string($0) }
            items.append(
                FrameworkItem(
                    id: itemID,
                    name: c.string(entry["name"], required: true) ?? "",
                    description: c.string(entry["description"], required: true) ?? "",
                    kind: c.string(entry["kind"]) ?? (aliasOf.isEmpty ? defaultKind(itemID, parent: c.string(entry["parent"])) : "alias"),
                    parent: c.string(entry["parent"]),
                    aliasOf: aliasOf,
                    mitigates: c.list(entry["mitigates"]).compactMap { c.string($0) },
                    backdoorRelevant: c.bool(entry["backdoor_relevant"]) ?? false))
        }
        let ids = Set(items.map(\.id))
        for (index, item) in items.enumerated() {
            let path = root["items"].elements?.first { $0["id"].value == .string(item.id) }?.path ?? "items[\(index)]"
            if let parent = item.parent, !ids.contains(parent) { c.report("\(path).parent", "unknown parent '\(parent)' in \(id ?? "this framework")") }
            for target in item.aliasOf where !ids.contains(target) { c.report("\(path).alias_of", "'\(item.id)' is an alias of unknown item '\(target)'") }
            for target in item.mitigates where !ids.contains(target) { c.report("\(path).mitigates", "'\(item.id)' mitigates unknown item '\(target)'") }
        }
        guard let id, let name, let edition else { return nil }
        return Framework(
            id: id, name: name, edition: edition, source: c.string(head["source"]) ?? "",
            licence: c.string(head["licence"]) ?? "", items: items)
    }

    /// NIST-style numbering tells functions (GOVERN), categories (GOVERN 1) and subcategories (GOVERN 1.1) apart.
    static func defaultKind(_ id: String, parent: String?) -> String {
        guard id.contains(" ") else { return parent == nil ? (id.allSatisfy { $0.isUppercase } ? "function" : "risk") : "item" }
        return id.contains(".") ? "subcategory" : "category"
    }

    static func readControls(_ root: DocumentCursor, _ c: ProblemCollector) -> [Control] {
        var controls: [Control] = []
        var seen: Set<String> = []
        for entry in c.list(root["controls"]) where c.object(entry) {
            guard let id = c.string(entry["id"], required: true) else { continue }
            guard seen.insert(id).inserted else { c.report(entry["id"].path, "duplicate control ID '\(id)'"); continue }
            let applies = c.list(entry["applies_to"]).compactMap { c.enumeration($0, SubjectKind.self) }
            if applies.isEmpty { c.report(entry["applies_to"].path, "must name at least one of: model, dataset, agent, credential") }
            let validity = c.integer(entry["validity_days"], range: 1...3650)
            if entry["validity_days"].isMissing { c.report(entry["validity_days"].path, "is required") }
            controls.append(
                Control(
                    id: id, name: c.string(entry["name"], required: true) ?? "",
                    description: c.string(entry["description"], required: true) ?? "",
                    appliesTo: applies, evidence: c.string(entry["evidence"], required: true) ?? "",
                    validityDays: validity ?? 0, graceDays: c.integer(entry["grace_days"], range: 0...365) ?? 0))
        }
        return controls
    }

    static func readCrosswalk(_ root: DocumentCursor, catalog: Catalog, _ c: ProblemCollector) -> ([ControlMapping], String) {
        let controls = Set(catalog.controls.map(\.id))
        let items = Dictionary(uniqueKeysWithValues: catalog.frameworks.map { ($0.id, Set($0.items.map(\.id))) })
        var mappings: [ControlMapping] = []
        guard let byControl = root["mappings"].fields else {
            c.report("mappings", "must map control IDs to frameworks")
            return ([], "")
        }
        for control in byControl.keys.sorted() {
            let entry = root["mappings"][control]
            if !controls.contains(control) { c.report(entry.path, "unknown control '\(control)'"); continue }
            for framework in (entry.fields ?? [:]).keys.sorted() {
                guard let known = items[framework] else { c.report(entry[framework].path, "unknown framework '\(framework)'"); continue }
                for item in (entry[framework].fields ?? [:]).keys.sorted() {
                    let cursor = entry[framework][item]
                    guard known.contains(item) else { c.report(cursor.path, "unknown item '\(item)' in framework '\(framework)'"); continue }
                    guard let relationship = c.enumeration(cursor, MappingRelationship.self) else { continue }
                    mappings.append(ControlMapping(control: control, framework: framework, item: item, relationship: relationship))
                }
            }
        }
        return (mappings, c.string(root["crosswalk"]["statement"]) ?? "")
    }
}
