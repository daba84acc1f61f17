import Foundation

/// The bytes of one JSON document read strictly, a value at a time: `JSONTreeParser` builds trees
/// with it, and readers of large inputs (OTLP traces) read the fields they want straight into
/// their own values and skip the rest without building anything — a million spans as trees was
/// most of an import's time, spent allocating and freeing dictionaries.
struct JSONCursor {
    typealias SyntaxError = JSONTreeParser.SyntaxError
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var index = 0

    func error(_ reason: String) -> SyntaxError {
        var line = 1, column = 1
        for i in 0..<min(index, bytes.count) {
            if bytes[i] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        }
        return SyntaxError(line: line, column: column, reason: reason)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(SyntaxError) -> DocumentValue {
        guard depth < maximumDepth else { throw error("nests deeper than \(maximumDepth) levels") }
        guard index < bytes.count else { throw error("unexpected end of the document") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try object(depth: depth))
        case UInt8(ascii: "["): return .array(try array(depth: depth))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Character(UnicodeScalar(bytes[index])))'")
        }
    }

    mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw error("unexpected end of the document") }
        for i in 0..<n where bytes[index + i] != word.utf8Start[i] { throw error("invalid literal") }
        index += n
    }

    mutating func object(depth: Int) throws(SyntaxError) -> [String: DocumentValue] {
        index += 1
        var result: [String: DocumentValue] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return result }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a field name in quotes") }
            let keyStart = index
            let key = try string()
            if result[key] != nil {
                index = keyStart
                throw error("the field '\(key)' appears twice in one object")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a field name") }
            index += 1
            skipWhitespace()
            result[key] = try value(depth: depth + 1)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the document inside an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return result }
            throw error("expected ',' or '}' in an object")
        }
    }

    /// An array's elements, `batchSize` at a time, with the index of each batch's first.
    mutating func elements(depth: Int, batchSize: Int, _ body: ([DocumentValue], Int) -> Void) throws(SyntaxError) {
        index += 1
        var pending: [DocumentValue] = []
        pending.reserveCapacity(batchSize)
        var first = 0
        skipWhitespace()
        // An empty list is handed over too: it is still a field the document has.
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; body([], 0); return }
        while true {
            skipWhitespace()
            pending.append(try value(depth: depth + 1))
            if pending.count == batchSize {
                body(pending, first)
                first += pending.count
                pending = []
                pending.reserveCapacity(batchSize)
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the document inside an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                if !pending.isEmpty { body(pending, first) }
                return
            }
            throw error("expected ',' or ']' in an array")
        }
    }

    mutating func array(depth: Int) throws(SyntaxError) -> [DocumentValue] {
        index += 1
        var result: [DocumentValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return result }
        while true {
            skipWhitespace()
            result.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the document inside an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return result }
            throw error("expected ',' or ']' in an array")
        }
    }

    mutating func string() throws(SyntaxError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // ASCII (nearly every string) needs no validation.
                let s: String
                if slice.allSatisfy({ $0 < 0x80 }) {
                    s = String(decoding: slice, as: UTF8.self)
                } else {
                    guard let valid = String(validating: slice, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                    s = valid
                }
                index += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character in a string") }
            index += 1
        }
        var out = [UInt8](bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                index += 1
                return s
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end of the document in a string") }
                let e = bytes[index]; index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in a \\u escape")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    if scalar == 0 { throw error("a NUL character (\\u0000) in a string") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw error("invalid escape in a string")
                }
            default:
                if b < 0x20 { throw error("control character in a string") }
                out.append(b); index += 1
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws(SyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]; index += 1
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - 0x57)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - 0x37)
            default: throw error("invalid hex digit in a \\u escape")
            }
            v = v << 4 | d
        }
        return v
    }

    mutating func number() throws(SyntaxError) -> DocumentValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        while index < bytes.count {
            let b = bytes[index]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") { index += 1; continue }
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") {
                isInteger = false; index += 1; continue
            }
            break
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let i = Int(text) { return .int(i) }
        guard let d = Double(text) else { throw error("invalid number '\(text)'") }
        return .double(d)
    }
}

// MARK: - Reading field by field

extension JSONCursor {
    /// A field's name as read: its bytes when it is plain ASCII (nearly always), else its text.
    struct Name {
        var raw: UnsafeBufferPointer<UInt8>
        var text: String?

        func `is`(_ name: StaticString) -> Bool {
            if let text { return text == name.description }
            return raw.count == name.utf8CodeUnitCount && (raw.count == 0 || memcmp(raw.baseAddress!, name.utf8Start, raw.count) == 0)
        }

        var string: String { text ?? String(decoding: raw, as: UTF8.self) }
    }

    /// The names met in one object, to refuse one given twice: a short list compared byte by
    /// byte (spans have tens of fields), a set past that (a hostile object may have millions).
    struct Names {
        private var few: [Name] = []
        private var many: Set<String>?

        /// False when `name` was met before.
        mutating func insert(_ name: Name) -> Bool {
            if many == nil {
                for seen in few where Self.same(seen, name) { return false }
                few.append(name)
                if few.count > 32 { many = Set(few.map(\.string)); few = [] }
                return true
            }
            return many!.insert(name.string).inserted
        }

        static func same(_ a: Name, _ b: Name) -> Bool {
            guard a.text == nil, b.text == nil else { return a.string == b.string }
            return a.raw.count == b.raw.count && (a.raw.count == 0 || memcmp(a.raw.baseAddress!, b.raw.baseAddress!, a.raw.count) == 0)
        }
    }

    /// Steps into an object: false when it is empty (and read whole).
    mutating func enterObject(depth: Int) throws(SyntaxError) -> Bool {
        guard depth < maximumDepth else { throw error("nests deeper than \(maximumDepth) levels") }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { throw error("expected an object") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return false }
        return true
    }

    /// The next field's name, and the ':' after it; refused when `names` met it before.
    mutating func name(_ names: inout Names) throws(SyntaxError) -> Name {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a field name in quotes") }
        let keyStart = index
        var end = index + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20, bytes[end] < 0x80 { end += 1 }
        let name: Name
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            name = Name(raw: UnsafeBufferPointer(rebasing: bytes[(index + 1)..<end]))
            index = end + 1
        } else {
            let text = try string()
            name = Name(raw: UnsafeBufferPointer(rebasing: bytes[index..<index]), text: text)
        }
        guard names.insert(name) else {
            index = keyStart
            throw error("the field '\(name.string)' appears twice in one object")
        }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a field name") }
        index += 1
        skipWhitespace()
        return name
    }

    /// After a field's value: true when another field follows, false at the object's end.
    mutating func nextField() throws(SyntaxError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of the document inside an object") }
        if bytes[index] == UInt8(ascii: ",") { index += 1; return true }
        if bytes[index] == UInt8(ascii: "}") { index += 1; return false }
        throw error("expected ',' or '}' in an object")
    }

    /// Steps into an array: false when it is empty (and read whole).
    mutating func enterArray(depth: Int) throws(SyntaxError) -> Bool {
        guard depth < maximumDepth else { throw error("nests deeper than \(maximumDepth) levels") }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { throw error("expected an array") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return false }
        return true
    }

    /// After an element: true when another follows, false at the array's end.
    mutating func nextElement() throws(SyntaxError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of the document inside an array") }
        if bytes[index] == UInt8(ascii: ",") { index += 1; skipWhitespace(); return true }
        if bytes[index] == UInt8(ascii: "]") { index += 1; return false }
        throw error("expected ',' or ']' in an array")
    }

    /// The next value's first byte, after any whitespace (nil at the end).
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// Reads past one value, as strictly as `value` reads it, building nothing.
    mutating func skipValue(depth: Int) throws(SyntaxError) {
        guard depth < maximumDepth else { throw error("nests deeper than \(maximumDepth) levels") }
        guard let first = peek() else { throw error("unexpected end of the document") }
        switch first {
        case UInt8(ascii: "{"):
            guard try enterObject(depth: depth) else { return }
            var names = Names()
            repeat {
                _ = try name(&names)
                try skipValue(depth: depth + 1)
            } while try nextField()
        case UInt8(ascii: "["):
            guard try enterArray(depth: depth) else { return }
            repeat { try skipValue(depth: depth + 1) } while try nextElement()
        case UInt8(ascii: "\""):
            // Plain ASCII without escapes is stepped over; anything else is read (and so checked) whole.
            var end = index + 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20, bytes[end] < 0x80 { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") { index = end + 1 } else { _ = try string() }
        default:
            _ = try value(depth: depth)
        }
    }
}
