import Foundation

/// Reads a Hugging Face model card: the YAML front matter of a README.md (or the YAML alone).
/// The model is the card's own (`model_name`, else the first `model-index` name, else the folder
/// the README.md sits in); `base_model` names its parents — one, or a list meaning a merge —
/// related by `base_model_relation` (adapter, merge, quantized, finetune; `unknown` when the card
/// does not say), and `datasets` the data it was trained on.
public enum HuggingFaceCardReader {
    /// The front-matter fields Sleeper reads; a card's many others are its own business, but one
    /// within two edits of these (`base_modle`) is refused rather than read as "no lineage".
    static let readFields: Set<String> = ["model_name", "model-index", "base_model", "base_model_relation", "datasets"]

    public static let edges: Set<String> = ["derived_from", "trained_on"]
    public static let fields: [EntityKind: [String]] = [.models: ["name", "supplier", "third_party", "training_data_declared"]]

    /// Whether YAML text reads like a card rather than an inventory.
    public static func looksLikeCard(_ text: String) -> Bool {
        ["base_model:", "base_model_relation:", "library_name:", "pipeline_tag:", "model-index:"].contains { text.contains($0) }
    }

    public static func read(_ data: Data, file: String, source: String?) -> ParsedInventory {
        let text = String(decoding: data, as: UTF8.self)
        let problems = ProblemCollector(file: file)
        let yaml: String
        if text.hasPrefix("---") {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) else {
                problems.report("", "the front matter opened by '---' is not closed by a second '---'")
                return SourceDocument.refused(file, problems)
            }
            yaml = lines[1..<end].joined(separator: "\n")
        } else {
            yaml = text
        }
        let tree: DocumentValue
        do { tree = try DocumentLoader.load(Data(yaml.utf8), file: file.hasSuffix(".json") ? file : file + ".yaml") } catch {
            return ParsedInventory(file: file, inventory: Inventory(), definitions: [:], references: [], problems: [InventoryProblem(file: file, path: error.path, message: error.message)])
        }
        let root = DocumentCursor(value: tree, path: "")
        guard root.fields != nil else {
            problems.report("", "has no YAML mapping in its front matter: not a model card")
            return SourceDocument.refused(file, problems)
        }
        let url = URL(fileURLWithPath: file)
        let folder = url.deletingLastPathComponent().lastPathComponent
        let named = problems.string(root["model_name"]) ?? problems.list(root["model-index"]).first.flatMap { problems.string($0["name"]) }
        let id = named ?? (url.lastPathComponent.lowercased() == "readme.md" && !folder.isEmpty && folder != "." ? folder : url.deletingPathExtension().lastPathComponent)
        let key = SourceKeys.key(id)

        // A string, or a list of them.
        func names(_ c: DocumentCursor) -> [String] {
            if let items = c.elements { return items.compactMap { problems.string($0) } }
            return c.isMissing ? [] : [problems.string(c)].compactMap { $0 }
        }
        problems.refuseNearMisses(root, read: Self.readFields, what: "a model card's front matter")
        let parents = names(root["base_model"])
        var relation: DerivationRelation = parents.count > 1 ? .merge : .unknown
        if let stated = problems.string(root["base_model_relation"]) {
            if let known = DerivationRelation(rawValue: stated), known != .distill, known != .unknown {
                relation = known
            } else {
                problems.report("base_model_relation", "'\(stated)' is not adapter, merge, quantized or finetune")
            }
        }
        let datasets = names(root["datasets"])

        var stubs = Inventory()
        stubs.models = parents.map { Inventory.Model(key: SourceKeys.key($0), name: $0, supplier: organisation($0), thirdParty: true) }
        stubs.datasets = datasets.map { Inventory.Dataset(key: SourceKeys.key($0), name: $0) }
        var model = Inventory.Model(
            key: key, name: id, supplier: organisation(id), thirdParty: true,
            derivedFrom: parents.map { .init(model: SourceKeys.key($0), relation: relation) },
            trainedOn: datasets.map { SourceKeys.key($0) })
        model.trainingDataDeclared = !datasets.isEmpty
        let origin = SourceOrigin(format: .huggingFaceCard, name: source ?? "hf:" + key, fields: fields, edges: edges, stubs: stubs)
        return ParsedInventory(file: file, origin: origin, inventory: Inventory(models: [model]), problems: problems.problems) { _ in "front matter" }
    }

    /// The organisation of a Hub id (`meta-llama` in `meta-llama/Llama-2-7b`).
    static func organisation(_ id: String) -> String? {
        id.contains("/") ? String(id.split(separator: "/")[0]) : nil
    }
}
