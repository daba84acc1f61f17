import Foundation

/// What every report reader shares: loading a JSON document, numbers, short quotes for notes,
/// and the failure that names the file and field.
enum ReportParsing {
    /// A JSON document, or the problem that says why it is not one.
    static func json(_ data: Data, file: String, what: String) throws(InventoryProblems) -> DocumentCursor {
        do {
            return DocumentCursor(value: try JSONTreeParser.parse(data, maximumDepth: DocumentLimits(bytes: data.count).maximumDepth), path: "")
        } catch {
            throw InventoryProblems([InventoryProblem(file: file, path: "", message: "is not a \(what): not valid JSON (\(error))")])
        }
    }

    static func failure(_ file: String, _ path: String, _ message: String) -> Result<TestReport, InventoryProblems> {
        .failure(InventoryProblems([InventoryProblem(file: file, path: path, message: message)]))
    }

    /// A count: a whole number not below zero.
    static func count(_ c: DocumentCursor) -> Int? {
        switch c.value {
        case .int(let n)? where n >= 0: return n
        case .double(let d)? where d >= 0 && d.rounded() == d && d < 1e15: return Int(d)
        default: return nil
        }
    }

    static func number(_ c: DocumentCursor) -> Double? {
        switch c.value {
        case .int(let n)?: return Double(n)
        case .double(let d)?: return d
        case .string(let s)?: return Double(s)
        default: return nil
        }
    }

    /// A text field, whatever its length, for quoting: its first line, at most `limit` characters.
    static func quote(_ c: DocumentCursor, limit: Int = 160) -> String? {
        guard case .string(let s)? = c.value else { return nil }
        let line = s.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }

    static func text(_ c: DocumentCursor) -> String? {
        switch c.value {
        case .string(let s)? where !s.isEmpty && s.utf8.count <= ProblemCollector.maximumTextLength && !s.utf8.contains(0): return s
        default: return nil
        }
    }

    static func percent(_ rate: Double) -> String { String(format: "%.1f%%", rate * 100) }
}
