import Foundation
import PostgresNIO
import SleeperCore

/// Checks that what a filter names exists, and otherwise says what was probably meant. A filter
/// on a subject, owner or resource that does not exist answers "nothing" — which reads as "no
/// gaps" or "not exposed" — so it is an error instead (`StoreError.notFound`).
public struct ReferenceLookup: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// A subject of the inventory, by kind and key.
    public func requireSubject(_ subject: Subject) async throws {
        let table = EntityKind(subjects: subject.kind).rawValue
        // A model's other key (model_aliases) names it too: what is recorded of it counts for it.
        let alias = subject.kind == .model ? " UNION ALL SELECT 1 FROM model_aliases WHERE alias = $1" : ""
        guard try await !exists("SELECT 1 FROM \(table) WHERE key = $1\(alias)", subject.key) else { return }
        let near = try await candidates(table: table, column: "key", near: subject.key)
        let hint = NearestName.suggestion(for: subject.key, among: near).map { "; did you mean '\(subject.kind.rawValue):\($0)'?" } ?? ""
        throw StoreError.notFound("no \(subject.kind.rawValue) '\(subject.key)' in the inventory\(hint)")
    }

    /// A resource key.
    public func requireResource(_ key: String) async throws {
        guard try await !exists("SELECT 1 FROM resources WHERE key = $1", key) else { return }
        throw StoreError.notFound("no resource '\(key)' in the inventory\(NearestName.hint(for: key, among: try await candidates(table: "resources", column: "key", near: key)))")
    }

    /// An owner named on any entity.
    public func requireOwner(_ owner: String) async throws {
        let tables = ["credentials", "agents", "models", "datasets", "resources"]
        let any = tables.map { "SELECT 1 FROM \($0) WHERE owner = $1" }.joined(separator: " UNION ALL ")
        guard try await !exists("SELECT 1 FROM (\(any)) o", owner) else { return }
        var owners: [String] = []
        let all = tables.map { "SELECT DISTINCT owner FROM \($0) WHERE owner IS NOT NULL" }.joined(separator: " UNION ")
        for try await name in try await db.client.query(PostgresQuery(unsafeSQL: all + " LIMIT 10000"), logger: db.logger).decode(String.self) {
            owners.append(name)
        }
        throw StoreError.notFound("no owner '\(owner)' in the inventory\(NearestName.hint(for: owner, among: owners))")
    }

    /// A control id of the catalog.
    public func requireControl(_ id: String) async throws {
        guard try await !exists("SELECT 1 FROM controls WHERE id = $1", id) else { return }
        throw StoreError.notFound("no control '\(id)' in the catalog\(NearestName.hint(for: id, among: try await candidates(table: "controls", column: "id", near: id))) (see `sleeper controls`)")
    }

    /// A recall by its number.
    public func requireRecall(_ id: Int) async throws {
        guard try await !exists("SELECT 1 FROM recalls WHERE id = $1::int8", String(id)) else { return }
        var ids: [Int] = []
        for try await n in try await db.client.query("SELECT id FROM recalls ORDER BY id DESC LIMIT 10", logger: db.logger).decode(Int.self) { ids.append(n) }
        throw StoreError.notFound("no recall #\(id)" + (ids.isEmpty ? " (there is none)" : " (the latest are \(ids.map { "#\($0)" }.joined(separator: ", ")))"))
    }

    /// An agent by key, for filters on runtime findings.
    public func requireAgent(_ key: String) async throws { try await requireSubject(Subject(kind: .agent, key: key)) }

    /// A framework id, matched without regard to case; an unknown one lists the known ones.
    public func framework(_ id: String) async throws -> String {
        let ids = try await CatalogQueries(db).frameworks().map(\.id)
        if ids.contains(id) { return id }
        if let match = NearestName.caseInsensitive(id, among: ids) { return match }
        throw StoreError.notFound(NearestName.unknownFramework(id, known: ids))
    }

    private func exists(_ sql: String, _ value: String) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(value)
        for try await _ in try await db.client.query(PostgresQuery(unsafeSQL: sql + " LIMIT 1", binds: binds), logger: db.logger) { return true }
        return false
    }

    /// Keys that could be what `text` meant, read from the index around it: those sharing its
    /// first letters and those containing it, a few hundred at most, whatever the table's size.
    private func candidates(table: String, column: String, near text: String) async throws -> [String] {
        var binds = PostgresBindings()
        binds.append(String(text.prefix(3)) + "%")
        binds.append("%" + text.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: "_", with: "\\_") + "%")
        var out: [String] = []
        for try await key in try await db.client.query(
            PostgresQuery(
                unsafeSQL: """
                    (SELECT \(column) FROM \(table) WHERE \(column) LIKE $1 ORDER BY \(column) LIMIT 200)
                    UNION (SELECT \(column) FROM \(table) WHERE \(column) ILIKE $2 LIMIT 200)
                    """, binds: binds), logger: db.logger
        ).decode(String.self) { out.append(key) }
        return out
    }
}
