/// A weight for every value of a closed set, read from a table of the weights file keyed by the
/// values' names: a missing value is refused when the file is read, so a lookup always has an
/// answer (no optional, no force unwrap), and a name that is not a value is refused with the
/// nearest one (a misspelt `adaptor:` would otherwise weigh nothing).
public struct EnumWeights<Key: CaseIterable & Hashable & Sendable>: Sendable, Equatable {
    private var weights: [Key: Double]

    public subscript(key: Key) -> Double { weights[key] ?? 0 }

    /// The weights as the file gives them, or nil (with the problems reported) when a value
    /// lacks one or a key names no value.
    static func read(_ cursor: DocumentCursor, _ c: ProblemCollector, name: (Key) -> String, number: (DocumentCursor) -> Double) -> EnumWeights {
        var weights: [Key: Double] = [:]
        let byName = Dictionary(uniqueKeysWithValues: Key.allCases.map { (name($0), $0) })
        guard let fields = cursor.fields else {
            c.report(cursor.path, "must be a mapping")
            return EnumWeights(weights: [:])
        }
        for field in fields.keys.sorted() {
            guard let key = byName[field] else {
                c.report(cursor[field].path, "'\(field)' is not one of \(byName.keys.sorted().joined(separator: ", "))\(NearestName.hint(for: field, among: byName.keys.sorted()))")
                continue
            }
            weights[key] = number(cursor[field])
        }
        for key in Key.allCases where weights[key] == nil { c.report("\(cursor.path).\(name(key))", "is required") }
        return EnumWeights(weights: weights)
    }
}

extension EnumWeights where Key: RawRepresentable, Key.RawValue == String {
    static func read(_ cursor: DocumentCursor, _ c: ProblemCollector, number: (DocumentCursor) -> Double) -> EnumWeights {
        read(cursor, c, name: \.rawValue, number: number)
    }
}
