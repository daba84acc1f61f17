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

    public var entities: [Entities] = []
    public var edges: [Edges] = []
    public var dryRun = false

    public var changedAnything: Bool {
        entities.contains { $0.inserted + $0.updated > 0 } || edges.contains { $0.added + $0.changed + $0.removed > 0 }
    }

    /// Counts for the audit log: rows inserted and updated, edges added, changed and removed.
    var auditDetail: [String: String] {
        ["inserted": String(entities.map(\.inserted).reduce(0, +)), "updated": String(entities.map(\.updated).reduce(0, +)),
         "edges_added": String(edges.map(\.added).reduce(0, +)), "edges_changed": String(edges.map(\.changed).reduce(0, +)),
         "edges_removed": String(edges.map(\.removed).reduce(0, +))]
    }

    /// Stable fields: dry_run, changed, entities [{table, in_file, inserted, updated, unchanged}],
    /// edges [{table, in_file, added, changed, removed}].
    public var json: String { jsonValue.pretty() }

    public var jsonValue: JSONValue {
        JSONValue.obj([
            ("dry_run", .bool(dryRun)),
            ("changed", .bool(changedAnything)),
            ("entities", .array(entities.map { .obj([("table", .string($0.table)), ("in_file", .int($0.inFile)), ("inserted", .int($0.inserted)),
                                                     ("updated", .int($0.updated)), ("unchanged", .int($0.unchanged))]) })),
            ("edges", .array(edges.map { .obj([("table", .string($0.table)), ("in_file", .int($0.inFile)), ("added", .int($0.added)),
                                               ("changed", .int($0.changed)), ("removed", .int($0.removed))]) })),
        ])
    }
}
