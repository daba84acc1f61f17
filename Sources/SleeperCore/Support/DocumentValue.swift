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
    /// Aliases are expanded, within `limits`: a few kilobytes of nested aliases ("billion laughs")
    /// would otherwise expand into gigabytes. A key given twice in one mapping is refused.
    static func from(yaml node: Node, limits: DocumentLimits) throws(DocumentLimits.Exceeded) -> DocumentValue {
        var budget = limits.maximumNodes
        return try from(yaml: node, depth: 0, budget: &budget, limits: limits)
    }

    private static func from(yaml node: Node, depth: Int, budget: inout Int, limits: DocumentLimits) throws(DocumentLimits.Exceeded) -> DocumentValue {
        budget -= 1
        guard budget >= 0 else { throw .tooManyNodes(limits.maximumNodes) }
        guard depth <= limits.maximumDepth else { throw .tooDeep(limits.maximumDepth) }
        switch node {
        case .scalar(let scalar):
            // Quoted scalars are strings whatever they look like; plain ones follow the core schema.
            if scalar.style != .plain { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let b = node.bool { return .bool(b) }
            if let i = node.int { return .int(i) }
            if let d = node.float { return .double(d) }
            return .string(scalar.string)
        case .sequence(let sequence):
            var items: [DocumentValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try from(yaml: item, depth: depth + 1, budget: &budget, limits: limits)) }
            return .array(items)
        case .mapping(let mapping):
            var object: [String: DocumentValue] = [:]
            for (key, value) in mapping {
                let name = key.string ?? "\(key)"
                guard object[name] == nil else { throw .duplicateKey(name) }
                object[name] = try from(yaml: value, depth: depth + 1, budget: &budget, limits: limits)
            }
            return .object(object)
        case .alias:
            return .null
        }
    }
}

/// Bounds every YAML and JSON reader shares: files on the command line, request bodies, catalogs.
/// A document is refused, quickly and with bounded memory, once it nests deeper than
/// `maximumDepth` or expands (through YAML aliases) to more than `maximumNodes` values.
public struct DocumentLimits: Sendable {
    public var maximumDepth = 64
    public var maximumNodes: Int

    /// Room for every value a document of `bytes` bytes could spell out without aliases (each
    /// takes at least two bytes), plus a little for anchors used as intended.
    public init(bytes: Int) { maximumNodes = bytes / 2 + 100_000 }

    public enum Exceeded: Error, CustomStringConvertible {
        case tooDeep(Int), tooManyNodes(Int), duplicateKey(String)
        public var description: String {
            switch self {
            case .tooDeep(let n): return "nests deeper than \(n) levels"
            case .tooManyNodes(let n): return "expands to more than \(n) values (YAML aliases that multiply, as in a \"billion laughs\" document, are refused)"
            case .duplicateKey(let k): return "the key '\(k)' appears twice in one mapping"
            }
        }
    }
}
