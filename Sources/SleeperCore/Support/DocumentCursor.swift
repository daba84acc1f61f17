import Foundation

/// A position in a loaded document: the value there and the path that names it in error messages.
/// Reading through a cursor records every problem instead of stopping at the first.
public struct DocumentCursor {
    public let value: Any?
    public let path: String

    public init(value: Any?, path: String) {
        self.value = value
        self.path = path
    }

    public subscript(field: String) -> DocumentCursor {
        let child = (value as? [String: Any])?[field]
        return DocumentCursor(value: child is NSNull ? nil : child, path: path.isEmpty ? field : "\(path).\(field)")
    }

    public var isMissing: Bool { value == nil }
    public var fieldName: String {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        return last.split(separator: "[").first.map(String.init) ?? last
    }

    public var elements: [DocumentCursor]? {
        guard let array = value as? [Any] else { return nil }
        return array.enumerated().map { DocumentCursor(value: $1 is NSNull ? nil : $1, path: "\(path)[\($0)]") }
    }
}

/// Collects problems for one file while its fields are read.
public final class ProblemCollector {
    public let file: String
    public private(set) var problems: [InventoryProblem] = []

    public init(file: String) { self.file = file }

    public func report(_ path: String, _ message: String) {
        problems.append(InventoryProblem(file: file, path: path, message: message))
    }

    // MARK: Typed reads. Each returns nil and reports when the value has the wrong shape.

    public func string(_ c: DocumentCursor, required: Bool = false) -> String? {
        switch c.value {
        case nil:
            if required { report(c.path, "is required") }
            return nil
        case let s as String:
            if required && s.trimmingCharacters(in: .whitespaces).isEmpty {
                report(c.path, "must not be empty")
                return nil
            }
            return s
        case let n as Int: return String(n)
        default:
            report(c.path, "must be a string")
            return nil
        }
    }

    public func bool(_ c: DocumentCursor) -> Bool? {
        switch c.value {
        case nil: return nil
        case let b as Bool where !(c.value is Int && !(c.value is Bool)): return b
        case let s as String where ["true", "false"].contains(s.lowercased()): return s.lowercased() == "true"
        default:
            report(c.path, "must be true or false")
            return nil
        }
    }

    public func integer(_ c: DocumentCursor, range: ClosedRange<Int>? = nil) -> Int? {
        let number: Int?
        switch c.value {
        case nil: return nil
        case let b as Bool where type(of: c.value!) == Bool.self: _ = b; number = nil
        case let n as Int: number = n
        case let d as Double where d.rounded() == d && abs(d) < 1e15: number = Int(d)
        case let s as String: number = Int(s)
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

    public func date(_ c: DocumentCursor) -> Date? {
        switch c.value {
        case nil: return nil
        case let d as Date: return d
        case let s as String:
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
        guard c.value is [String: Any] else {
            report(c.path, "must be a mapping of fields")
            return false
        }
        return true
    }
}
