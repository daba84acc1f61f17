/// How a listing is printed: a table for people, JSON and CSV for other tools.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, csv, markdown
}

/// A listing independent of how it is printed: column names (as in the file format) and rows of cells.
/// `nil` cells are empty in tables and CSV and `null` in JSON.
public struct Listing: Sendable {
    public enum Cell: Sendable, Equatable {
        case text(String)
        case number(Double)
        case integer(Int)
        case bool(Bool)
        case list([String])
        /// A chain (model → agent → credential → resource): an array in JSON, `;`-joined in CSV
        /// like any list, arrows in tables.
        case path([String])
        /// Nested objects, such as an agent's `holds`: JSON gets objects, tables get `first (rest)`.
        case records([[Field]])
        case null
    }

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var columns: [String]
    public var rows: [[Cell]]

    public init(columns: [String], rows: [[Cell]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The same listing with only the named columns, in that order (for narrow tables).
    public func selecting(_ names: [String]) -> Listing {
        let indexes = names.compactMap { columns.firstIndex(of: $0) }
        return Listing(columns: indexes.map { columns[$0] }, rows: rows.map { row in indexes.map { row[$0] } })
    }
}

extension Listing.Cell {
    public var plain: String {
        switch self {
        case .text(let s): return s
        case .number(let d): return d == d.rounded() ? String(Int(d)) : String(format: "%.4g", d)
        case .integer(let i): return String(i)
        case .bool(let b): return b ? "yes" : "no"
        case .list(let l): return l.joined(separator: ", ")
        case .path(let p): return p.joined(separator: " → ")
        case .records(let rs):
            return rs.map { r in
                guard let first = r.first else { return "" }
                let rest = r.dropFirst().map(\.value)
                return rest.isEmpty ? first.value : "\(first.value) (\(rest.joined(separator: ", ")))"
            }.joined(separator: ", ")
        case .null: return ""
        }
    }
}
