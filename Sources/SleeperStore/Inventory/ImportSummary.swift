import SleeperCore

/// What an import changed (or, with `--dry-run`, would change), table by table.
public struct ImportSummary: Sendable, Equatable {
    public struct Entities: Sendable, Equatable {
        public var table: String
        public var inFile: Int
        public var inserted: Int
        public var updated: Int
        public var unchanged: Int { inFile - inserted - updated }
    }

    public struct Edges: Sendable, Equatable {
        public var table: String
        public var inFile: Int
        public var added: Int
        public var changed: Int
        public var removed: Int
        public init(table: String, inFile: Int, added: Int, changed: Int, removed: Int) {
            (self.table, self.inFile, self.added, self.changed, self.removed) = (table, inFile, added, changed, removed)
        }
    }

    /// A source whose snapshot this import was: how many entities it lists now, and the keys it
    /// no longer lists that were removed (nothing else spoke for them) or kept (something did).
    public struct SourceSnapshot: Sendable, Equatable {
        public var name: String
        public var format: String
        public var entities: Int
        public var removed: [String]
        public var kept: Int
    }

    public var entities: [Entities] = []
    public var edges: [Edges] = []
    public var sources: [SourceSnapshot] = []
    /// What sources showed that is not imported (a root account, a secret written into a config).
    public var findings: [String] = []
    /// Fields that changed on entities that were already stored, in words
    /// (`credential:KEY: kind access_key → other`): the first few hundred per table.
    public var fieldChanges: [String] = []
    /// Secrets the files held as they are: each recorded as a failed SLP-ROTATION of its credential.
    public var literalSecrets: [SourceOrigin.LiteralSecret] = []
    /// Model keys this import found to be one model (`ModelIdentity`): each alias, its model, why.
    public var merges: [ModelIdentity.Merge] = []
    /// Models whose `signers` a hand-written file stated and changed: the signers trusted now.
    public var signers: [TrustedSigners.FromInventory] = []
    public var dryRun = false

    public var changedAnything: Bool {
        entities.contains { $0.inserted + $0.updated > 0 } || edges.contains { $0.added + $0.changed + $0.removed > 0 }
            || sources.contains { !$0.removed.isEmpty } || !merges.isEmpty || !signers.isEmpty
    }

    /// Entities removed because their source no longer lists them.
    public var removedEntities: Int { sources.map(\.removed.count).reduce(0, +) }

    /// Adds one group's counts to the table rows of the same name.
    mutating func add(_ other: ImportSummary) {
        for e in other.entities {
            if let i = entities.firstIndex(where: { $0.table == e.table }) {
                entities[i].inFile += e.inFile; entities[i].inserted += e.inserted; entities[i].updated += e.updated
            } else {
                entities.append(e)
            }
        }
        for e in other.edges {
            if let i = edges.firstIndex(where: { $0.table == e.table }) {
                edges[i].inFile += e.inFile; edges[i].added += e.added; edges[i].changed += e.changed; edges[i].removed += e.removed
            } else {
                edges.append(e)
            }
        }
        sources += other.sources
        findings += other.findings
        fieldChanges += other.fieldChanges
        literalSecrets += other.literalSecrets
    }

    /// Counts for the audit log: rows inserted and updated, edges added, changed and removed.
    var auditDetail: [String: String] {
        [
            "inserted": String(entities.map(\.inserted).reduce(0, +)), "updated": String(entities.map(\.updated).reduce(0, +)),
            "edges_added": String(edges.map(\.added).reduce(0, +)), "edges_changed": String(edges.map(\.changed).reduce(0, +)),
            "edges_removed": String(edges.map(\.removed).reduce(0, +)),
            "sources": sources.map { "\($0.name) (\($0.format)): \($0.entities) listed, \($0.removed.count) removed" }.joined(separator: "; "),
            "removed": sources.flatMap(\.removed).prefix(200).joined(separator: ", "),
            "fields_changed": fieldChanges.prefix(200).joined(separator: "; "),
            "models_merged": merges.map { "\($0.alias) → \($0.canonical) (\($0.reason))" }.joined(separator: "; "),
            "signers": signers.map { "model:\($0.model): \($0.signers.isEmpty ? "none" : $0.signers.joined(separator: ", "))" }.joined(separator: "; "),
        ]
    }

    /// Stable fields: dry_run, changed, entities [{table, in_file, inserted, updated, unchanged}],
    /// edges [{table, in_file, added, changed, removed}].
    public var json: String { jsonValue.pretty() }

    public var jsonValue: JSONValue {
        JSONValue.obj([
            ("dry_run", .bool(dryRun)),
            ("changed", .bool(changedAnything)),
            (
                "entities",
                .array(
                    entities.map {
                        .obj([
                            ("table", .string($0.table)), ("in_file", .int($0.inFile)), ("inserted", .int($0.inserted)),
                            ("updated", .int($0.updated)), ("unchanged", .int($0.unchanged)),
                        ])
                    })
            ),
            (
                "edges",
                .array(
                    edges.map {
                        .obj([
                            ("table", .string($0.table)), ("in_file", .int($0.inFile)), ("added", .int($0.added)),
                            ("changed", .int($0.changed)), ("removed", .int($0.removed)),
                        ])
                    })
            ),
            (
                "sources",
                .array(
                    sources.map {
                        .obj([
                            ("name", .string($0.name)), ("format", .string($0.format)), ("entities", .int($0.entities)),
                            ("removed", .array($0.removed.map(JSONValue.string))), ("kept", .int($0.kept)),
                        ])
                    })
            ),
            ("findings", .array(findings.map(JSONValue.string))),
            ("fields_changed", .array(fieldChanges.map(JSONValue.string))),
            ("models_merged", .array(merges.map { .obj([("alias", .string($0.alias)), ("model", .string($0.canonical)), ("reason", .string($0.reason))]) })),
            ("signers", .array(signers.map { .obj([("model", .string($0.model)), ("signers", .array($0.signers.map(JSONValue.string)))]) })),
        ])
    }
}
