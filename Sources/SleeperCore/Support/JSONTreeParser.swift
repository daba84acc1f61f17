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
            var parser = JSONCursor(bytes: buffer, maximumDepth: maximumDepth)
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
    public static func readSections(
        _ data: Data, maximumDepth: Int = 512, streamed: Set<String>, batchSize: Int = 256,
        batch: ([DocumentValue], String, Int) -> Void, other: (String, DocumentValue) -> Void
    ) throws(SyntaxError) {
        try withBytes(data) { (buffer) throws(SyntaxError) -> Void in
            var parser = JSONCursor(bytes: buffer, maximumDepth: maximumDepth)
            parser.skipWhitespace()
            guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "{") else { throw parser.error("expected an object at the top level") }
            parser.index += 1
            var seen: Set<String> = []
            parser.skipWhitespace()
            if parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "}") {
                parser.index += 1
            } else {
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
}
