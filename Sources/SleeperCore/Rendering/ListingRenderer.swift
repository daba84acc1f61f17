import Foundation

/// Prints a `Listing` in each output format.
public enum ListingRenderer {
    public static func render(_ listing: Listing, as format: OutputFormat) -> String {
        switch format {
        case .table: return table(listing)
        case .markdown: return markdown(listing)
        case .csv: return csv(listing)
        case .json: return json(listing)
        }
    }

    public static func table(_ listing: Listing) -> String {
        let header = listing.columns.map { $0.uppercased() }
        // Long values are cut in every column but the last, which may run on.
        let last = listing.columns.count - 1
        let cells = listing.rows.map { $0.enumerated().map { i, c in i == last ? c.plain : truncate(c.plain, 60) } }
        var widths = header.map(\.count)
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, c in i == row.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var out = line(header) + "\n"
        for row in cells { out += line(row) + "\n" }
        if listing.rows.isEmpty { out += "(none)\n" }
        return out
    }

    public static func markdown(_ listing: Listing) -> String {
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var out = "| " + listing.columns.joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: " --- |", count: listing.columns.count) + "\n"
        for row in listing.rows { out += "| " + row.map { escape($0.plain) }.joined(separator: " | ") + " |\n" }
        return out
    }

    /// RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line break.
    public static func csv(_ listing: Listing) -> String {
        var out = listing.columns.map(CSVText.quoted).joined(separator: ",") + "\r\n"
        for row in listing.rows { out += CSVText.row(row) }
        return out
    }

    /// An array of objects keyed by column name, fields in column order.
    public static func json(_ listing: Listing) -> String {
        let objects = jsonObjects(listing)
        return objects.isEmpty ? "[\n]\n" : "[\n  " + objects.joined(separator: ",\n  ") + "\n]\n"
    }

    /// Each row as one JSON object on one line, for embedding in larger documents (API pages).
    public static func jsonObjects(_ listing: Listing) -> [String] {
        listing.rows.map { row in "{" + zip(listing.columns, row).map { "\(JSONText.string($0)): \(jsonValue($1))" }.joined(separator: ", ") + "}" }
    }

    static func jsonValue(_ c: Listing.Cell) -> String {
        switch c {
        case .text(let s): return JSONText.string(s)
        case .number(let d): return JSONText.number(d)
        case .integer(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .list(let l), .path(let l): return "[" + l.map(JSONText.string).joined(separator: ", ") + "]"
        case .records(let rs):
            return "["
                + rs.map { r in "{" + r.map { "\(JSONText.string($0.name)): \(JSONText.string($0.value))" }.joined(separator: ", ") + "}" }
                .joined(separator: ", ") + "]"
        case .null: return "null"
        }
    }

    static func truncate(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(n - 1)) + "…"
    }
}

/// JSON scalars written by hand so that output field order is stable and documented.
public enum JSONText {
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    public static func number(_ d: Double) -> String {
        if d == d.rounded() && abs(d) < 1e15 { return String(Int(d)) }
        return String(format: "%.6g", d)
    }
}
