/// Catalog contents as listings and as the readable description `sleeper controls show` prints.
public enum CatalogListing {
    public static func frameworks(_ rows: [(id: String, name: String, edition: String, items: Int, mapped: Int, licence: String)]) -> Listing {
        Listing(
            columns: ["id", "name", "edition", "items", "mapped_items", "licence"],
            rows: rows.map {
                [.text($0.id), .text($0.name), .text($0.edition), .integer($0.items), .integer($0.mapped), .text($0.licence)]
            })
    }

    public static func controls(_ catalog: Catalog) -> Listing {
        Listing(
            columns: ["id", "name", "description", "applies_to", "evidence", "validity_days", "grace_days", "maps_to"],
            rows: catalog.controls.map { c in
                [
                    .text(c.id), .text(c.name), .text(c.description), .list(c.appliesTo.map(\.rawValue)), .text(c.evidence),
                    .integer(c.validityDays), .integer(c.graceDays),
                    .list(catalog.mappings.filter { $0.control == c.id }.map { "\($0.framework):\($0.item)" }),
                ]
            })
    }

    public static func items(_ framework: Framework, catalog: Catalog) -> Listing {
        Listing(
            columns: ["id", "name", "description", "kind", "parent", "alias_of", "mitigates", "backdoor_relevant", "controls"],
            rows: framework.items.map { item in
                let targets = item.isAlias ? item.aliasOf : [item.id]
                let controls = Set(catalog.mappings.filter { $0.framework == framework.id && targets.contains($0.item) }.map(\.control)).sorted()
                return [
                    .text(item.id), .text(item.isAlias ? item.name + " — alias of " + item.aliasOf.joined(separator: ", ") : item.name),
                    .text(item.description), .text(item.kind), item.parent.map(Listing.Cell.text) ?? .null,
                    .list(item.aliasOf), .list(item.mitigates), .bool(item.backdoorRelevant), .list(controls),
                ]
            })
    }

    /// One control as a listing row, or the framework items with that ID (an alias such as A2
    /// included), each with its framework: what `controls show` describes, for the API.
    public static func lookup(_ id: String, in catalog: Catalog) -> Listing? {
        let controls = CatalogListing.controls(catalog)
        if let row = controls.rows.first(where: { if case .text(let c) = $0.first { return c.caseInsensitiveCompare(id) == .orderedSame } else { return false } }) {
            return Listing(columns: controls.columns, rows: [row])
        }
        var rows: [[Listing.Cell]] = []
        var columns: [String] = []
        for framework in catalog.frameworks {
            let items = CatalogListing.items(framework, catalog: catalog)
            columns = ["framework"] + items.columns
            for row in items.rows {
                if case .text(let item) = row.first, item.caseInsensitiveCompare(id) == .orderedSame { rows.append([.text(framework.id)] + row) }
            }
        }
        return rows.isEmpty ? nil : Listing(columns: columns, rows: rows)
    }

    /// Everything one control or framework item maps to, both ways. nil when the ID is unknown.
    public static func describe(_ id: String, in catalog: Catalog) -> String? {
        if let control = catalog.controls.first(where: { $0.id.caseInsensitiveCompare(id) == .orderedSame }) {
            return describe(control, catalog)
        }
        let found = catalog.frameworks.compactMap { f in f.items.first { $0.id.caseInsensitiveCompare(id) == .orderedSame }.map { (f, $0) } }
        guard !found.isEmpty else { return nil }
        return found.map { describe($0.1, in: $0.0, catalog) }.joined(separator: "\n")
    }

    static func describe(_ control: Control, _ catalog: Catalog) -> String {
        var out = "\(control.id)  \(control.name)\n  \(control.description)\n"
        out += "  applies to: \(control.appliesTo.map(\.rawValue).joined(separator: ", "))\n"
        out += "  evidence:   \(control.evidence)\n"
        out += "  valid for:  \(control.validityDays) days, then fades out over \(control.graceDays) days of grace\n"
        out += "  maps to (Sleeper's own crosswalk):\n"
        for framework in catalog.frameworks {
            let mapped = catalog.mappings.filter { $0.control == control.id && $0.framework == framework.id }
            guard !mapped.isEmpty else { continue }
            out += "    \(framework.name) \(framework.edition)\n"
            let width = mapped.map(\.item.count).max() ?? 0
            for m in mapped {
                let item = framework.items.first { $0.id == m.item }
                let aliases = framework.items.filter { $0.aliasOf.contains(m.item) }.map(\.id)
                let cited = aliases.isEmpty ? "" : "  (cited as \(aliases.joined(separator: ", ")), an alias)"
                out +=
                    "      \(m.item.padding(toLength: width, withPad: " ", startingAt: 0))  \(m.relationship.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0))  \(item?.name ?? "")\(cited)\n"
            }
        }
        return out
    }

    static func describe(_ item: FrameworkItem, in framework: Framework, _ catalog: Catalog) -> String {
        func name(_ id: String) -> String { framework.items.first { $0.id == id }.map { "\($0.id)  \($0.name)" } ?? id }
        var out = "\(item.id)  \(item.name)\n  \(framework.name) \(framework.edition) · \(item.kind)\(item.backdoorRelevant ? " · backdoor-relevant" : "")\n"
        if !item.description.isEmpty { out += "  \(item.description)\n" }
        if item.isAlias {
            out += "  \(item.id) is an alias, not an identifier the framework publishes. It resolves to:\n"
            for target in item.aliasOf { out += "    \(name(target))\n" }
        }
        let aliases = framework.items.filter { $0.aliasOf.contains(item.id) }
        for alias in aliases { out += "  Also cited as \(alias.id) (an alias that resolves to \(alias.aliasOf.joined(separator: ", ")))\n" }
        if let parent = item.parent { out += "  parent: \(name(parent))\n" }
        let children = framework.items.filter { $0.parent == item.id }
        if !children.isEmpty { out += "  contains:\n" + children.map { "    \($0.id)  \($0.name)\n" }.joined() }
        if !item.mitigates.isEmpty { out += "  mitigates:\n" + item.mitigates.map { "    \(name($0))\n" }.joined() }
        let mitigatedBy = framework.items.filter { $0.mitigates.contains(item.id) }
        if !mitigatedBy.isEmpty { out += "  mitigated by:\n" + mitigatedBy.map { "    \($0.id)  \($0.name)\n" }.joined() }
        let targets = item.isAlias ? item.aliasOf : [item.id]
        let mapped = catalog.mappings.filter { $0.framework == framework.id && targets.contains($0.item) }
        if mapped.isEmpty {
            out += "  addressed by Sleeper controls: none\n"
        } else {
            out += "  addressed by Sleeper controls (Sleeper's own crosswalk):\n"
            for m in mapped {
                let control = catalog.controls.first { $0.id == m.control }
                let via = item.isAlias ? " via \(m.item)" : ""
                out += "    \(m.control)  \(control?.name ?? "")  (\(m.relationship.rawValue)\(via))\n"
            }
        }
        return out
    }
}
