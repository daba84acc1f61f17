import Foundation
import Yams

/// Turns the bytes of a YAML or JSON file into a plain tree of dictionaries, arrays and scalars,
/// the shape both formats share. JSON takes the fast path; YAML goes through libyaml.
public enum DocumentLoader {
    /// The largest document read: a million-credential inventory is about 400 MB of JSON.
    public static let maximumBytes = 2 << 30

    public static func load(_ data: Data, file: String) throws(InventoryProblem) -> DocumentValue {
        guard data.count <= maximumBytes else {
            throw InventoryProblem(file: file, path: "", message: "is larger than \(maximumBytes >> 20) MB")
        }
        let limits = DocumentLimits(bytes: data.count)
        let isJSON = file.lowercased().hasSuffix(".json") || data.first(where: { !isWhitespace($0) }) == UInt8(ascii: "{")
        if isJSON {
            do {
                return try JSONTreeParser.parse(data, maximumDepth: limits.maximumDepth)
            } catch {
                throw InventoryProblem(file: file, path: "", message: "is not valid JSON: \(error)")
            }
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InventoryProblem(file: file, path: "", message: "is not UTF-8 text")
        }
        let node: Node?
        do {
            // Timestamps stay text: Yams's resolver would roll 2025-13-45 over into a real date,
            // and the inventory's own date parser is strict.
            node = try Yams.compose(yaml: text, Resolver.default.removing(.timestamp))
        } catch {
            throw InventoryProblem(file: file, path: "", message: "is not valid YAML: \(describe(error))")
        }
        guard let node else { return .object([:]) }
        do { return try DocumentValue.from(yaml: node, limits: limits) } catch {
            throw InventoryProblem(file: file, path: "", message: "is refused: it \(error)")
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Where and what, never the text around it: Yams quotes the offending lines, which may hold
    /// the very secret the import would refuse.
    private static func describe(_ error: any Error) -> String {
        guard let yaml = error as? YamlError else { return "unreadable" }
        switch yaml {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return "line \(mark.line), column \(mark.column): \(context.map { $0.text + " " } ?? "")\(problem)"
        case let .reader(problem, offset, _, _):
            return "\(problem)\(offset.map { " at byte \($0)" } ?? "")"
        case let .duplicatedKeysInMapping(duplicates, context):
            return "line \(context.mark.line), column \(context.mark.column): the key(s) \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) appear twice in one mapping"
        default:
            return "\(yaml)".replacingOccurrences(of: "\n", with: " ")
        }
    }
}
