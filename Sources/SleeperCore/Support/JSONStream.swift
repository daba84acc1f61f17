import Foundation

/// Splits the two shapes of JSON that tools append to: JSON Lines (one value per line) and JSON
/// values written back to back (fickling appends one object per pickle, with no separator).
/// Only the split is done here; each piece is parsed by `JSONTreeParser`.
public enum JSONStream {
    public struct Piece: Sendable {
        public var bytes: Data
        /// 1-based line where the piece starts.
        public var line: Int
    }

    /// The non-blank lines, with their numbers. `complete` is false when the last line has no
    /// newline after it (a writer that stopped mid-line leaves that).
    public static func lines(_ data: Data) -> (pieces: [Piece], complete: Bool) {
        var pieces: [Piece] = []
        var start = data.startIndex, line = 1
        var index = data.startIndex
        while index < data.endIndex {
            if data[index] == UInt8(ascii: "\n") {
                appendLine(data, start..<index, line, &pieces)
                line += 1
                start = index + 1
            }
            index += 1
        }
        let tail = start..<data.endIndex
        appendLine(data, tail, line, &pieces)
        return (pieces, tail.allSatisfy { isBlank(data[$0]) })
    }

    private static func appendLine(_ data: Data, _ range: Range<Data.Index>, _ line: Int, _ out: inout [Piece]) {
        guard range.contains(where: { !isBlank(data[$0]) }) else { return }
        out.append(Piece(bytes: data[range], line: line))
    }

    /// Objects or arrays back to back, separated by nothing or by whitespace. Throws a message
    /// naming the line where a value is cut short or where something other than a value begins.
    public static func values(_ data: Data) throws(StreamError) -> [Piece] {
        var pieces: [Piece] = []
        var depth = 0, inString = false, escaped = false
        var start: Data.Index?, startLine = 1, line = 1
        for index in data.indices {
            let byte = data[index]
            if byte == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 0 { start = index; startLine = line }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth < 0 { throw StreamError(line: line, reason: "a closing bracket with nothing open") }
                if depth == 0, let s = start { pieces.append(Piece(bytes: data[s...index], line: startLine)); start = nil }
            case UInt8(ascii: "\""):
                if depth == 0 { throw StreamError(line: line, reason: "text outside an object") }
                inString = true
            default:
                if depth == 0 && !isBlank(byte) && byte != 0xEF && byte != 0xBB && byte != 0xBF {
                    throw StreamError(line: line, reason: "text outside an object")
                }
            }
        }
        if depth > 0 || inString { throw StreamError(line: startLine, reason: "the value that starts here is cut short (the file ends inside it)") }
        return pieces
    }

    public struct StreamError: Error, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
}
