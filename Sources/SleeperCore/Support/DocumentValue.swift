import Yams

/// A parsed YAML or JSON document as a native Swift tree. Reading fields out of `Any` trees goes
/// through Foundation's bridging on Linux, which copies whole arrays on each cast; an enum does not.
public indirect enum DocumentValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([DocumentValue])
    case object([String: DocumentValue])

    /// A YAML node as a value. Scalars take the type the YAML core schema gives them, except that
    /// timestamps stay strings (the inventory's date parser is stricter than YAML's resolver).
    init(yaml node: Node) {
        switch node {
        case .scalar(let scalar):
            // Quoted scalars are strings whatever they look like; plain ones follow the core schema.
            if scalar.style != .plain { self = .string(scalar.string); return }
            if node.null != nil { self = .null }
            else if let b = node.bool { self = .bool(b) }
            else if let i = node.int { self = .int(i) }
            else if let d = node.float { self = .double(d) }
            else { self = .string(scalar.string) }
        case .sequence(let sequence):
            self = .array(sequence.map(DocumentValue.init(yaml:)))
        case .mapping(let mapping):
            var object: [String: DocumentValue] = [:]
            for (key, value) in mapping { object[key.string ?? "\(key)"] = DocumentValue(yaml: value) }
            self = .object(object)
        case .alias:
            self = .null
        }
    }
}
