/// One model per real thing. Sources name a model differently (a card's folder, a BOM's
/// `group/name@version`, a Hub id), so before an import is merged its model keys are resolved:
///
/// - the same content digest is the same model, wherever it was read;
/// - a hand-written entry's `same_as: [KEY, …]` says those keys are this model;
/// - what was resolved before (stored) still holds.
///
/// Each set of keys found to be one model is stored under one key: the hand-written entry that
/// declared it, else the key an earlier resolution kept, else a key already stored, else the
/// first in order. The others become aliases: the entities, the references to them (lineage,
/// agents' models) and the evidence recorded of them count for that one key, and a model derives
/// from each distinct parent once.
public enum ModelIdentity {
    public struct Merge: Sendable, Equatable {
        public var alias: String
        public var canonical: String
        public var reason: String
        public init(alias: String, canonical: String, reason: String) {
            self.alias = alias
            self.canonical = canonical
            self.reason = reason
        }
    }

    public struct Resolution: Sendable {
        public var files: [ParsedInventory]
        /// Every alias in force after this import (stored ones included), alias → canonical.
        public var aliases: [String: String]
        /// The aliases this import adds or changes, with why.
        public var merges: [Merge]
        public var problems: [InventoryProblem]
    }

    /// `stored`: aliases already in force (alias → canonical, with their reasons); `storedDigests`:
    /// the digests of stored models (key → digest).
    public static func resolve(_ files: [ParsedInventory], stored: [String: Merge], storedDigests: [String: String]) -> Resolution {
        var sets = DisjointSets()
        var reasons: [String: String] = [:]
        var problems: [InventoryProblem] = []
        var declared: [String: String] = [:]  // a declaring entry's key → its file
        var declaredAlias: [String: String] = [:]  // alias → the key that declared it
        for merge in stored.values { sets.union(merge.alias, merge.canonical) }
        for file in files where file.source == nil {
            for model in file.inventory.models where !model.sameAs.isEmpty {
                declared[model.key] = file.file
                for alias in model.sameAs {
                    if let other = declaredAlias[alias], other != model.key {
                        problems.append(
                            InventoryProblem(
                                file: file.file, path: "models[\(model.key)].same_as",
                                message: "'\(alias)' is declared the same as both '\(other)' and '\(model.key)'"))
                        continue
                    }
                    declaredAlias[alias] = model.key
                    sets.union(model.key, alias)
                    reasons[alias] = "declared same_as by '\(model.key)' in \(file.file)"
                }
            }
        }
        var byDigest: [String: Set<String>] = [:]
        for (key, digest) in storedDigests { byDigest[digest, default: []].insert(key) }
        for file in files { for model in file.inventory.models { if let d = model.digest { byDigest[d, default: []].insert(model.key) } } }
        for (digest, keys) in byDigest where keys.count > 1 {
            let sorted = keys.sorted()
            for key in sorted.dropFirst() {
                sets.union(sorted[0], key)
                if reasons[key] == nil { reasons[key] = "the same content digest \(digest)" }
                if reasons[sorted[0]] == nil { reasons[sorted[0]] = "the same content digest \(digest)" }
            }
        }
        let storedCanonicals = Set(stored.values.map(\.canonical))
        let storedKeys = Set(storedDigests.keys).union(storedCanonicals)
        var aliases: [String: String] = [:]
        for members in sets.classes() where members.count > 1 {
            let declaring = members.filter { declared[$0] != nil && declaredAlias[$0] == nil }.sorted()
            if declaring.count > 1 {
                problems.append(
                    InventoryProblem(
                        file: declared[declaring[1]] ?? "", path: "models[\(declaring[1])].same_as",
                        message: "'\(declaring[0])' and '\(declaring[1])' are one model (\(members.sorted().joined(separator: ", "))); declare same_as on one of them only"))
                continue
            }
            let canonical =
                declaring.first
                ?? members.filter(storedCanonicals.contains).sorted().first
                ?? members.filter(storedKeys.contains).sorted().first
                ?? members.sorted()[0]
            for member in members where member != canonical { aliases[member] = canonical }
        }
        var merges: [Merge] = []
        for (alias, canonical) in aliases.sorted(by: { $0.key < $1.key }) where stored[alias]?.canonical != canonical {
            merges.append(Merge(alias: alias, canonical: canonical, reason: reasons[alias] ?? stored[alias]?.reason ?? "one model with '\(canonical)'"))
        }
        let rewritten = aliases.isEmpty ? files : files.map { rename($0, aliases) }
        return Resolution(files: rewritten, aliases: aliases, merges: merges, problems: problems)
    }

    /// `file` with every alias replaced by its model's key: entries under one key merged (the
    /// first one's values win, the other fills what it left out), references renamed, and each
    /// parent and each model of an agent listed once.
    static func rename(_ file: ParsedInventory, _ aliases: [String: String]) -> ParsedInventory {
        func key(_ k: String) -> String { aliases[k] ?? k }
        var out = file
        var models: [Inventory.Model] = []
        var at: [String: Int] = [:]
        // A model that keeps its key first, so that its values win over a copy under an alias.
        let (kept, renamed) = (file.inventory.models.filter { aliases[$0.key] == nil }, file.inventory.models.filter { aliases[$0.key] != nil })
        for var model in kept + renamed {
            if aliases[model.key] != nil && file.source != nil {
                // A source that names the model by an alias describes it without owning it: its
                // values fill what the model lacks, and its lists are left to the source that owns
                // the model (or a hand-written file), so that the result does not depend on which
                // source came last.
                model.stated = 0
            }
            model.key = key(model.key)
            model.sameAs = []
            if let i = at[model.key] { models[i].absorb(model) } else { at[model.key] = models.count; models.append(model) }
        }
        for i in models.indices { models[i].derivedFrom = uniqueParents(models[i].derivedFrom.map { Inventory.Derivation(model: key($0.model), relation: $0.relation) }, of: models[i].key) }
        out.inventory.models = models
        for i in out.inventory.agents.indices { out.inventory.agents[i].usesModels = unique(out.inventory.agents[i].usesModels.map(key)) }
        if var defined = out.definitions[.models] {
            for (alias, canonical) in aliases where defined[alias] != nil {
                let path = defined.removeValue(forKey: alias)!
                if defined[canonical] == nil { defined[canonical] = path }
            }
            out.definitions[.models] = defined
        }
        out.references = out.references.map { r in
            guard r.kind == .models, let canonical = aliases[r.key] else { return r }
            var renamed = r
            renamed.key = canonical
            return renamed
        }
        if var source = out.source {
            var stubs: [Inventory.Model] = []
            var seen: Set<String> = []
            for var stub in source.stubs.models {
                stub.key = key(stub.key)
                if seen.insert(stub.key).inserted { stubs.append(stub) }
            }
            source.stubs.models = stubs
            out.source = source
        }
        return out
    }

    static func uniqueParents(_ parents: [Inventory.Derivation], of child: String) -> [Inventory.Derivation] {
        var seen: Set<String> = [child]
        return parents.filter { seen.insert($0.model).inserted }
    }

    static func unique(_ keys: [String]) -> [String] {
        var seen: Set<String> = []
        return keys.filter { seen.insert($0).inserted }
    }
}

extension Inventory.Model {
    /// Takes from `other` (the same model under another name) what this entry left out.
    mutating func absorb(_ other: Inventory.Model) {
        if supplier == nil { supplier = other.supplier }
        if owner == nil { owner = other.owner }
        if digest == nil { digest = other.digest }
        if serialization == .unknown { serialization = other.serialization }
        signed = signed || other.signed
        lineageVerified = lineageVerified || other.lineageVerified
        trainingDataDeclared = trainingDataDeclared || other.trainingDataDeclared
        derivedFrom += other.derivedFrom
        trainedOn = ModelIdentity.unique(trainedOn + other.trainedOn)
        // nil is every field (a source's own entry); otherwise the fields either entry states.
        if let s = stated, let o = other.stated { stated = s | o } else { stated = nil }
    }
}

/// Union–find over keys.
struct DisjointSets {
    private var parent: [String: String] = [:]

    mutating func find(_ x: String) -> String {
        var root = x
        while let p = parent[root], p != root { root = p }
        var node = x
        while let p = parent[node], p != root { parent[node] = root; node = p }
        if parent[x] == nil { parent[x] = x }
        return root
    }

    mutating func union(_ a: String, _ b: String) {
        let (ra, rb) = (find(a), find(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }

    mutating func classes() -> [[String]] {
        var out: [String: [String]] = [:]
        for key in Array(parent.keys) { out[find(key), default: []].append(key) }
        return Array(out.values)
    }
}
