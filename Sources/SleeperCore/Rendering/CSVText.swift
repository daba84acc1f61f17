/// CSV the way every Sleeper CSV writes it: RFC 4180 quoting, CRLF line ends, one list separator,
/// and text cells that a spreadsheet would run as a formula neutralised.
public enum CSVText {
    /// Lists in one cell (framework items, artifact hashes, paths) are joined with this. It
    /// appears in no identifier Sleeper knows, unlike the space in `GOVERN 3.2` or the colon in
    /// `LLM01:2025`.
    public static let listSeparator = ";"

    /// A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
    /// Excel and its kin (a resource named `=HYPERLINK(…)`); such text gets a leading `'`, as
    /// OWASP advises. Numbers are written as they are.
    public static func text(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) else { return quoted(s) }
        return quoted("'" + s)
    }

    /// RFC 4180: quote a field holding a comma, quote, CR or LF, doubling inner quotes.
    public static func quoted(_ s: String) -> String {
        // Bytes, not characters: comparing each character of five million rows cost most of an export.
        guard s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func cell(_ c: Listing.Cell) -> String {
        switch c {
        case .text(let s): return text(s)
        case .list(let items), .path(let items): return text(items.joined(separator: listSeparator))
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number: return quoted(c.plain)
        case .records, .null: return text(c.plain)
        }
    }

    public static func row(_ cells: [Listing.Cell]) -> String { cells.map(cell).joined(separator: ",") + "\r\n" }
}
