import Foundation
import Yams

/// Turns the bytes of a YAML or JSON file into a plain tree of dictionaries, arrays and scalars,
/// the shape both formats share. JSON takes the fast path; YAML goes through libyaml.
public enum DocumentLoader {
    public static func load(_ data: Data, file: String) throws(InventoryProblem) -> DocumentValue {
        let isJSON = file.lowercased().hasSuffix(".json") || data.first(where: { !isWhitespace($0) }) == UInt8(ascii: "{")
        if isJSON {
            do {
                return try JSONTreeParser.parse(data)
            } catch {
                throw InventoryProblem(file: file, path: "", message: "is not valid JSON: \(error)")
            }
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InventoryProblem(file: file, path: "", message: "is not UTF-8 text")
        }
        do {
            // Timestamps stay text: Yams's resolver would roll 2025-13-45 over into a real date,
            // and the inventory's own date parser is strict.
            guard let node = try Yams.compose(yaml: text, Resolver.default.removing(.timestamp)) else { return .object([:]) }
            return DocumentValue(yaml: node)
        } catch {
            throw InventoryProblem(file: file, path: "", message: "is not valid YAML: \(describe(error))")
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func describe(_ error: any Error) -> String {
        if let yaml = error as? YamlError { return "\(yaml)".replacingOccurrences(of: "\n", with: " ") }
        return (error as NSError).localizedDescription
    }
}
