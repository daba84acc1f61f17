/// Checks that belong to the whole import, across its files and against what is already stored:
/// keys defined twice, references to nothing, and lineage cycles.
public enum InventoryValidator {
    public struct Batch: Sendable {
        public var inventory: Inventory
        /// References not defined by any file of the import; the store checks them against the database.
        public var unresolved: [InventoryReference]
        /// Where each key was defined, for the lineage-cycle message.
        public var definitions: [EntityKind: [String: DefinitionSite]]
        /// Problems found so far (in single files, and keys defined twice across files).
        public var problems: [InventoryProblem]
    }

    public static func merge(_ files: [ParsedInventory]) -> Batch {
        var problems: [InventoryProblem] = files.flatMap(\.problems)
        var definitions: [EntityKind: [String: DefinitionSite]] = [:]
        for kind in EntityKind.allCases {
            let count = files.map { $0.definitions[kind]?.count ?? 0 }.reduce(0, +)
            if count > 0 { definitions[kind] = Dictionary(minimumCapacity: count) }
        }
        var inventory = Inventory()
        // Keys defined again in another group, by group (a source's name; "" hand-written).
        var elsewhere: [EntityKind: [String: [String: DefinitionSite]]] = [:]
        for file in files {
            // A key is defined once per source, and once among the hand-written files; a
            // hand-written file (or another source) may describe what a source brings: the two
            // are merged field by field.
            let group = file.source?.name
            for (kind, keys) in file.definitions {
                for (key, path) in keys {
                    let site = DefinitionSite(file: file.file, path: path, group: group)
                    if let earlier = definitions[kind]?[key] {
                        if earlier.group == group {
                            problems.append(InventoryProblem(file: file.file, path: path.description, message: "duplicate key '\(key)' (already defined in \(earlier))"))
                        } else if let again = elsewhere[kind]?[key]?[group ?? ""] {
                            problems.append(InventoryProblem(file: file.file, path: path.description, message: "duplicate key '\(key)' (already defined in \(again))"))
                        } else {
                            elsewhere[kind, default: [:]][key, default: [:]][group ?? ""] = site
                        }
                    } else {
                        definitions[kind, default: [:]][key] = site
                    }
                }
            }
            inventory.append(contentsOf: file.inventory)
        }
        // What a source only names (a base model by its id) resolves references without being a
        // second definition of a key something else defines.
        for file in files {
            guard let stubs = file.source?.stubs else { continue }
            for (kind, keys) in [
                (EntityKind.models, stubs.models.map(\.key)), (.datasets, stubs.datasets.map(\.key)), (.agents, stubs.agents.map(\.key)),
                (.credentials, stubs.credentials.map(\.key)), (.resources, stubs.resources.map(\.key)),
            ] {
                for key in keys where definitions[kind]?[key] == nil {
                    definitions[kind, default: [:]][key] = DefinitionSite(file: file.file, path: .named("(named)"))
                }
            }
        }
        let unresolved = files.flatMap(\.references).filter { definitions[$0.kind]?[$0.key] == nil }
        return Batch(inventory: inventory, unresolved: unresolved, definitions: definitions, problems: problems)
    }

    /// Final checks once the store has said which unresolved references exist in the database.
    /// `storedLineage` holds (child, parent) edges of stored models that this import does not redefine.
    public static func finish(_ batch: Batch, existing: Set<EntityReference>, storedLineage: [(child: String, parent: String)]) -> [InventoryProblem] {
        var problems = batch.problems
        for ref in batch.unresolved where !existing.contains(EntityReference(kind: ref.kind, key: ref.key)) {
            problems.append(InventoryProblem(file: ref.file, path: ref.path, message: "unknown \(ref.kind.singular) '\(ref.key)' (not in this import nor in the database)"))
        }
        if let cycle = lineageCycle(batch.inventory, storedLineage: storedLineage) {
            let first = cycle[0]
            // Report it where the import defines a model on the cycle.
            let site = cycle.lazy.compactMap { batch.definitions[.models]?[$0] }.first
            problems.append(
                InventoryProblem(
                    file: site?.file ?? "the database", path: site?.path.description ?? "",
                    message: "lineage cycle: \((cycle + [first]).joined(separator: " → ")) (derived_from must not loop)"))
        }
        return problems
    }

    static func lineageCycle(_ inventory: Inventory, storedLineage: [(child: String, parent: String)]) -> [String]? {
        var edges: [String: [String]] = [:]  // parent → children
        var nodes: Set<String> = []
        for m in inventory.models {
            nodes.insert(m.key)
            for p in m.derivedFrom { edges[p.model, default: []].append(m.key); nodes.insert(p.model) }
        }
        for e in storedLineage { edges[e.parent, default: []].append(e.child); nodes.insert(e.parent); nodes.insert(e.child) }
        if case .cycle(let cycle) = TopologicalOrder.sort(nodes: nodes.sorted(), edges: edges) {
            // Start at the smallest key so the message is the same on every run; print in attack-flow order.
            let start = cycle.firstIndex(of: cycle.min()!)!
            return Array(cycle[start...] + cycle[..<start])
        }
        return nil
    }

}

/// Where a key was defined: a file and the path inside it.
public struct DefinitionSite: Sendable, CustomStringConvertible {
    public var file: String
    public var path: DocumentPath
    /// The source whose snapshot the file is (nil: hand-written).
    public var group: String? = nil
    public var description: String { "\(file) at \(path)" }
}

public struct EntityReference: Sendable, Hashable {
    public var kind: EntityKind
    public var key: String
    public init(kind: EntityKind, key: String) {
        self.kind = kind
        self.key = key
    }
}
