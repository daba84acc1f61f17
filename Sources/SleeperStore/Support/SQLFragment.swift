import PostgresNIO

/// A piece of SQL and the values it binds, composable: a fragment interpolated into another
/// brings its values along, its placeholders renumbered after the outer ones. SQL that crosses a
/// function boundary travels as one of these, never as a string that assumes which `$n` its
/// caller will bind. Text enters only as literals, as other fragments, as text written whole with
/// its own `$1…$n` (`numbered:`), or as `constant:` — names and lists made from Sleeper's own
/// declarations, never from input.
public struct SQLFragment: Sendable, ExpressibleByStringInterpolation {
    public private(set) var text: String
    fileprivate var binds: [@Sendable (inout PostgresBindings) -> Void]

    public init(stringLiteral value: String) {
        text = value
        binds = []
    }

    public init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
        binds = stringInterpolation.binds
    }

    /// Text written whole, whose `$1…$n` are `values` in order (each may be used many times).
    public init<each Value: PostgresDynamicTypeEncodable & Sendable>(numbered text: String, binding values: repeat each Value) {
        self.text = text
        var binds: [@Sendable (inout PostgresBindings) -> Void] = []
        for value in repeat each values { binds.append { $0.append(value) } }
        self.binds = binds
    }

    /// How many values it binds.
    public var bindCount: Int { binds.count }

    /// The statement to send.
    public var query: PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds { bind(&bindings) }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    public struct Interpolation: StringInterpolationProtocol {
        fileprivate var text = ""
        fileprivate var binds: [@Sendable (inout PostgresBindings) -> Void] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 4 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        /// A value: bound, never spliced into the text.
        public mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable & Sendable>(_ value: Value) {
            binds.append { $0.append(value) }
            text += "$\(binds.count)"
        }

        public mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable & Sendable>(_ value: Value?) {
            binds.append { $0.append(value) }
            text += "$\(binds.count)"
        }

        /// Another fragment, its placeholders renumbered after these.
        public mutating func appendInterpolation(_ fragment: SQLFragment) {
            text += SQLFragment.renumber(fragment.text, by: binds.count)
            binds += fragment.binds
        }

        /// Text made from Sleeper's own declarations (a table name, a list of enum values).
        public mutating func appendInterpolation(constant: String) { text += constant }
    }

    /// `text` with each placeholder `$n` outside quotes and comments made `$(n + offset)`.
    static func renumber(_ text: String, by offset: Int) -> String {
        guard offset > 0, text.contains("$") else { return text }
        var out = ""
        out.reserveCapacity(text.count + 16)
        var quote: Character? = nil
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let q = quote {
                out.append(c)
                if c == q { quote = nil }
                i = text.index(after: i)
                continue
            }
            // A line comment is copied as it is: its apostrophes open no quote.
            if c == "-", text[i...].hasPrefix("--") {
                let end = text[i...].firstIndex(of: "\n") ?? text.endIndex
                out += text[i..<end]
                i = end
                continue
            }
            if c == "/", text[i...].hasPrefix("/*") {
                let end = text[i...].range(of: "*/")?.upperBound ?? text.endIndex
                out += text[i..<end]
                i = end
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
                out.append(c)
                i = text.index(after: i)
                continue
            }
            if c == "$" {
                var j = text.index(after: i)
                while j < text.endIndex, text[j].isASCII, text[j].isNumber { j = text.index(after: j) }
                if j > text.index(after: i), let n = Int(text[text.index(after: i)..<j]) {
                    out += "$\(n + offset)"
                    i = j
                    continue
                }
            }
            out.append(c)
            i = text.index(after: i)
        }
        return out
    }
}
