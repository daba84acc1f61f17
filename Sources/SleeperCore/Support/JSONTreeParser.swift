import Foundation

/// A strict JSON parser producing a `DocumentValue` tree. Foundation's JSONSerialization returns
/// bridged NS collections on Linux, and reading fields from those re-bridges on every access:
/// many times slower on a 40 MB inventory. Errors give the line and column.
public struct JSONTreeParser {
    public struct SyntaxError: Error, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var reason: String
        public var description: String { "line \(line), column \(column): \(reason)" }
    }

    /// Strict: invalid UTF-8, a NUL character, a key given twice in one object, or nesting deeper
    /// than `maximumDepth` is an error, never silently repaired or dropped.
    public static func parse(_ data: Data, maximumDepth: Int = 512) throws(SyntaxError) -> DocumentValue {
        try withBytes(data) { (buffer) throws(SyntaxError) -> DocumentValue in
            var parser = Cursor(bytes: buffer, maximumDepth: maximumDepth)
            parser.skipWhitespace()
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            if parser.index != buffer.count { throw parser.error("unexpected content after the document") }
            return value
        }
    }

    /// Reads a document whose top level is an object, handing over the elements of the arrays
    /// named in `streamed` a batch at a time (`batch(field, index of the first, values)`) and every
    /// other field's value whole (`other`). Only a batch is held at once, never the whole tree:
    /// a million-credential inventory as one tree took gigabytes. The same strictness as `parse`.
    public static func readSections(_ data: Data, maximumDepth: Int = 512, streamed: Set<String>, batchSize: Int = 256,
                                    batch: ([DocumentValue], String, Int) -> Void, other: (String, DocumentValue) -> Void) throws(SyntaxError) {
        try withBytes(data) { (buffer) throws(SyntaxError) -> Void in
            var parser = Cursor(bytes: buffer, maximumDepth: maximumDepth)
            parser.skipWhitespace()
            guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "{") else { throw parser.error("expected an object at the top level") }
            parser.index += 1
            var seen: Set<String> = []
            parser.skipWhitespace()
            if parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "}") { parser.index += 1 } else {
                fields: while true {
                    parser.skipWhitespace()
                    guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "\"") else { throw parser.error("expected a field name in quotes") }
                    let keyStart = parser.index
                    let key = try parser.string()
                    guard seen.insert(key).inserted else {
                        parser.index = keyStart
                        throw parser.error("the field '\(key)' appears twice in one object")
                    }
                    parser.skipWhitespace()
                    guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: ":") else { throw parser.error("expected ':' after a field name") }
                    parser.index += 1
                    parser.skipWhitespace()
                    if streamed.contains(key), parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "[") {
                        try parser.elements(depth: 1, batchSize: batchSize) { values, first in batch(values, key, first) }
                    } else {
                        other(key, try parser.value(depth: 1))
                    }
                    parser.skipWhitespace()
                    guard parser.index < buffer.count else { throw parser.error("unexpected end of the document inside an object") }
                    if buffer[parser.index] == UInt8(ascii: ",") { parser.index += 1; continue fields }
                    if buffer[parser.index] == UInt8(ascii: "}") { parser.index += 1; break fields }
                    throw parser.error("expected ',' or '}' in an object")
                }
            }
            parser.skipWhitespace()
            if parser.index != buffer.count { throw parser.error("unexpected content after the document") }
        }
    }

    /// The bytes of `data` without copying them when they are contiguous (a 400 MB file copied
    /// into an array was 400 MB more at the peak).
    private static func withBytes<T>(_ data: Data, _ body: (UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> T) throws(SyntaxError) -> T {
        var result: Result<T, SyntaxError>?
        data.withUnsafeBytes { raw in
            let buffer = raw.bindMemory(to: UInt8.self)
            do throws(SyntaxError) { result = .success(try body(buffer)) } catch { result = .failure(error) }
        }
        switch result {
        case .success(let value)?: return value
        case .failure(let error)?: throw error
        case nil: throw SyntaxError(line: 1, column: 1, reason: "unreadable")
        }
    }

    private struct Cursor {
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
                    if slice.allSatisfy({ $0 < 0x80 }) { s = String(decoding: slice, as: UTF8.self) } else {
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
}
