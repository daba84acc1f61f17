/// A JSON document whose object keys keep the order they were written in, printed the same way
/// every time. Exports are compared byte for byte and signed, so neither key order nor number
/// formatting may depend on a dictionary or a locale.
public indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.pretty() == b.pretty() }

    /// The same value with every string (not the member names) passed through `transform`.
    public func mappingStrings(_ transform: (String) -> String) -> JSONValue {
        switch self {
        case .string(let s): return .string(transform(s))
        case .array(let items): return .array(items.map { $0.mappingStrings(transform) })
        case .object(let members): return .object(members.map { ($0.0, $0.1.mappingStrings(transform)) })
        default: return self
        }
    }

    /// An object without its `nil` members, so optional OSCAL fields are simply absent.
    public static func obj(_ members: [(String, JSONValue?)]) -> JSONValue {
        .object(members.compactMap { k, v in v.map { (k, $0) } })
    }

    /// An array, or nothing when empty: OSCAL arrays must have at least one member.
    public static func nonEmpty(_ items: [JSONValue]) -> JSONValue? { items.isEmpty ? nil : .array(items) }

    public func pretty() -> String {
        var out = ""
        write(into: &out, indent: 0)
        return out + "\n"
    }

    /// This value as it appears nested `indent` levels deep in a pretty document (no newline).
    public func pretty(indent: Int) -> String {
        var out = ""
        write(into: &out, indent: indent)
        return out
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .string(let s): out += JSONText.string(s)
        case .int(let i): out += String(i)
        case .number(let d): out += JSONText.number(d)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.write(into: &out, indent: indent + 1)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += end + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += pad + JSONText.string(key) + ": "
                value.write(into: &out, indent: indent + 1)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += end + "}"
        }
    }
}
