import Foundation

/// A position in a loaded document: the value there and the path that names it in error messages.
/// Reading through a cursor records every problem instead of stopping at the first.
public struct DocumentCursor: Sendable {
    /// nil when the field is absent or null.
    public let value: DocumentValue?
    /// Where the enclosing value sits; this value's own step is `field` or `index`.
    private let parent: DocumentPath.Step?
    private let field: String?
    private let index: Int
    /// This value's own step, made once for a mapping or a list (whose children all point to
    /// it) and never for a scalar: made on every field read, steps were a third of an import's
    /// allocations.
    private let containerStep: DocumentPath.Step?

    public init(value: DocumentValue?, path: String) {
        self.init(value: value, parent: nil, field: path.isEmpty ? nil : path, index: -1)
    }

    private init(value: DocumentValue?, parent: DocumentPath.Step?, field: String?, index: Int) {
        self.value = value == .null ? nil : value
        self.parent = parent
        self.field = field
        self.index = index
        switch value {
        case .object?, .array?: containerStep = Self.step(parent: parent, field: field, index: index)
        default: containerStep = nil
        }
    }

    private static func step(parent: DocumentPath.Step?, field: String?, index: Int) -> DocumentPath.Step? {
        field == nil && index < 0 ? parent : DocumentPath.Step(parent: parent, field: field, index: index)
    }

    /// Where this value is; spelled out only when a problem is reported, since a large import
    /// visits millions of fields and reports none.
    public var location: DocumentPath {
        if let containerStep { return DocumentPath(step: containerStep) }
        if field == nil && index < 0 { return DocumentPath(step: parent) }
        return DocumentPath(parent: parent, field: field, index: index)
    }

    public var path: String { location.description }

    public subscript(field: String) -> DocumentCursor {
        var child: DocumentValue?
        if case .object(let fields)? = value { child = fields[field] }
        return DocumentCursor(value: child, parent: containerStep ?? location.step, field: field, index: -1)
    }

    public var isMissing: Bool { value == nil }

    /// Elements of the top-level list `section` from index `first`, as `root[section].elements`
    /// would give them, for a reader that receives a long list a part at a time. `section` is
    /// `sectionStep(name)`, made once per list.
    static func elements(_ values: [DocumentValue], of section: DocumentPath.Step, from first: Int) -> [DocumentCursor] {
        values.enumerated().map { DocumentCursor(value: $1, parent: section, field: nil, index: first + $0) }
    }

    static func sectionStep(_ name: String) -> DocumentPath.Step { DocumentPath.Step(parent: nil, field: name, index: -1) }

    /// The name of the field this value sits in (for list elements, the list's field).
    public var fieldName: String {
        if let field { return field }
        var step = parent
        while let s = step {
            if let f = s.field { return f }
            step = s.parent
        }
        return ""
    }

    public var elements: [DocumentCursor]? {
        guard case .array(let items)? = value else { return nil }
        let here = containerStep ?? location.step
        return items.enumerated().map { DocumentCursor(value: $1, parent: here, field: nil, index: $0) }
    }

    public var fields: [String: DocumentValue]? {
        if case .object(let fields)? = value { return fields }
        return nil
    }
}

/// A path inside a document such as `agents[3].holds[0].credential`, kept as a chain of steps
/// and turned into text on demand. The last step is held by value: a path to a scalar (a key, a
/// reference) allocates nothing, and an import keeps millions of them.
public struct DocumentPath: Sendable, CustomStringConvertible, Hashable {
    final class Step: Sendable {
        let parent: Step?
        let field: String?
        let index: Int
        init(parent: Step?, field: String?, index: Int) {
            self.parent = parent
            self.field = field
            self.index = index
        }
    }

    /// Where the last step sits, and the last step itself (`field`, or `index` when it is an
    /// element; neither for the document itself).
    let parent: Step?
    let field: String?
    let index: Int

    init(step: Step?) {
        parent = step?.parent
        field = step?.field
        index = step?.index ?? -1
        isRoot = step == nil
    }

    init(parent: Step?, field: String?, index: Int) {
        (self.parent, self.field, self.index) = (parent, field, index)
        isRoot = false
    }

    private let isRoot: Bool

    /// The last step as an object, for a child to point to.
    var step: Step? { isRoot ? nil : Step(parent: parent, field: field, index: index) }

    public var description: String {
        guard !isRoot else { return "" }
        var parts: [String] = [field.map { parent == nil ? $0 : "." + $0 } ?? "[\(index)]"]
        var node = parent
        while let n = node {
            if let field = n.field { parts.append(n.parent == nil ? field : "." + field) } else { parts.append("[\(n.index)]") }
            node = n.parent
        }
        return parts.reversed().joined()
    }

    /// A location written out already (`components[3]`, `row 12`), for readers that do not walk a tree.
    public static func named(_ text: String) -> DocumentPath { DocumentPath(parent: nil, field: text, index: 0) }

    public static func == (a: DocumentPath, b: DocumentPath) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

/// Collects problems for one file while its fields are read. Used by one thread at a time.
public final class ProblemCollector: @unchecked Sendable {
    public let file: String
    public private(set) var problems: [InventoryProblem] = []
    /// Whether each text read is refused when it looks like secret material: the one check every
    /// reader and request body shares, so no field can be forgotten. Off only where the whole
    /// document was scanned already (the inventory) or the values are public by nature
    /// (signatures and certificates, the bundled catalogs).
    let checksSecrets: Bool
    /// Where a value was judged secret, so that it is reported once and never quoted after.
    public private(set) var secretPaths: Set<String> = []

    public init(file: String, checksSecrets: Bool = true) {
        self.file = file
        self.checksSecrets = checksSecrets
    }

    /// Reports the value at `path` as secret material, once.
    public func reportSecret(_ path: String, kind: String) {
        guard secretPaths.insert(path).inserted else { return }
        report(path, "looks like secret material (\(kind)); the value is not shown and nothing was written")
    }

    /// Refuses each field of `c` that is not in `known`, naming the field most likely meant: a
    /// misspelt field must not be read as "not given" (an `effectve:` recorded now).
    public func refuseUnknownFields(_ c: DocumentCursor, known: Set<String>, what: String) {
        guard let fields = c.fields, fields.keys.contains(where: { !known.contains($0) }) else { return }
        for field in fields.keys.sorted() where !known.contains(field) {
            let hint = FieldNames.suggestion(for: field, among: known).map { " (did you mean '\($0)'?)" } ?? ""
            report(c[field].path, "is not a field of \(what)\(hint)")
        }
    }

    /// For a format with many optional fields Sleeper does not read (a model card): refuses only a
    /// field that looks like a misspelling of one it does read (`base_modle`).
    /// `alsoKnown`: fields of the format Sleeper does not read, never taken for a misspelling.
    /// A read name of four letters or fewer is meant only one edit away (`urll`, not `name` for
    /// `date`).
    public func refuseNearMisses(_ c: DocumentCursor, read: Set<String>, alsoKnown: Set<String> = [], what: String) {
        guard let fields = c.fields else { return }
        for field in fields.keys.sorted() where !read.contains(field) && !alsoKnown.contains(field) {
            guard let meant = FieldNames.suggestion(for: field, among: read),
                meant.count > 4 || NearestName.distance(field.lowercased(), meant.lowercased()) <= 1
            else { continue }
            report(c[field].path, "is not a field of \(what) (did you mean '\(meant)'? as written it would be ignored)")
        }
    }

    public func report(_ path: String, _ message: String) {
        problems.append(InventoryProblem(file: file, path: path, message: message))
    }

    /// The problems, without those at `paths` or under them: once a value is judged secret, no
    /// other message about it (an enum, date or reference error quoting it) may be shown.
    public func problems(excluding paths: Set<String>) -> [InventoryProblem] { Self.excluding(problems, paths: paths) }

    /// `problems` without those at `paths` or under them.
    static func excluding(_ problems: [InventoryProblem], paths: Set<String>) -> [InventoryProblem] {
        guard !paths.isEmpty else { return problems }
        return problems.filter { p in !paths.contains(p.path) && !paths.contains { p.path.hasPrefix($0 + ".") || p.path.hasPrefix($0 + "[") } }
    }

    // MARK: Typed reads. Each returns nil and reports when the value has the wrong shape.

    /// The longest text any field takes (keys are capped lower, at 200): names, notes and URIs
    /// are sentences, not documents.
    public static let maximumTextLength = 4096

    /// `secretsAllowed`: for a reader that judges the value itself (an MCP config's `env`, where
    /// a literal secret is a finding and an exposed credential, never stored).
    public func string(_ c: DocumentCursor, required: Bool = false, secretsAllowed: Bool = false) -> String? {
        switch c.value {
        case nil:
            if required { report(c.path, "is required") }
            return nil
        case .string(let s)?:
            if required && s.allSatisfy({ $0 == " " || $0 == "\t" }) {
                report(c.path, "must not be empty")
                return nil
            }
            if s.utf8.count > Self.maximumTextLength {
                report(c.path, "is longer than \(Self.maximumTextLength) bytes")
                return nil
            }
            if s.utf8.contains(0) {
                report(c.path, "contains a NUL character")
                return nil
            }
            if checksSecrets, !secretsAllowed, let kind = SecretScanner.secretKind(of: s, field: c.fieldName) {
                reportSecret(c.path, kind: kind)
                return nil
            }
            return s
        case .int(let n)?: return String(n)
        default:
            report(c.path, "must be a string")
            return nil
        }
    }

    public func bool(_ c: DocumentCursor) -> Bool? {
        switch c.value {
        case nil: return nil
        case .bool(let b)?: return b
        case .string(let s)? where ["true", "false"].contains(s.lowercased()):
            report(c.path, "must be true or false, not the text '\(s)' (write it without quotes)")
            return nil
        default:
            report(c.path, "must be true or false")
            return nil
        }
    }

    public func integer(_ c: DocumentCursor, range: ClosedRange<Int>? = nil) -> Int? {
        let number: Int?
        switch c.value {
        case nil: return nil
        case .int(let n)?: number = n
        case .double(let d)? where d.rounded() == d && abs(d) < 1e15: number = Int(d)
        case .string(let s)? where Int(s) != nil:
            report(c.path, "must be a number, not the text '\(s)' (write it without quotes)")
            return nil
        default: number = nil
        }
        guard let number else {
            report(c.path, "must be a whole number")
            return nil
        }
        if let range, !range.contains(number) {
            report(c.path, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
            return nil
        }
        return number
    }

    public func enumeration<E: RawRepresentable & CaseIterable>(_ c: DocumentCursor, _ type: E.Type) -> E?
    where E.RawValue == String {
        guard let raw = string(c) else { return nil }
        if let value = E(rawValue: raw) { return value }
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        report(c.path, "'\(raw)' is not one of: \(allowed)")
        return nil
    }

    /// A date a thing holds until (an expiry): a day alone is the end of that day, UTC.
    public func moment(_ c: DocumentCursor) -> Date? {
        guard let d = date(c) else { return nil }
        if case .string(let s)? = c.value, s.trimmingCharacters(in: .whitespaces).utf8.count == 10 { return d.addingTimeInterval(86400 - 1) }
        return d
    }

    public func date(_ c: DocumentCursor) -> Date? {
        switch c.value {
        case nil: return nil
        case .string(let s)?:
            if let d = Timestamps.parse(s) { return d }
            report(c.path, "'\(s)' is not a date (use YYYY-MM-DD or an ISO 8601 date-time)")
            return nil
        default:
            report(c.path, "must be a date (YYYY-MM-DD or an ISO 8601 date-time)")
            return nil
        }
    }

    public func list(_ c: DocumentCursor) -> [DocumentCursor] {
        if c.isMissing { return [] }
        guard let elements = c.elements else {
            report(c.path, "must be a list")
            return []
        }
        return elements
    }

    public func object(_ c: DocumentCursor) -> Bool {
        guard c.fields != nil else {
            report(c.path, "must be a mapping of fields")
            return false
        }
        return true
    }
}
