/// Splits a SQL script into statements at top-level semicolons, respecting quotes, dollar-quoted
/// bodies and comments. postgres-nio speaks only the extended protocol, one statement at a time.
public enum SQLScript {
    public static func statements(_ sql: String) -> [String] {
        let chars = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < chars.count ? chars[i + offset] : nil }
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !isOnlyComments(text) { statements.append(text) }
            current = String.UnicodeScalarView()
        }
        while i < chars.count {
            let c = chars[i]
            if c == "-" && peek(1) == "-" {  // line comment
                while i < chars.count && chars[i] != "\n" { current.append(chars[i]); i += 1 }
                continue
            }
            if c == "/" && peek(1) == "*" {  // block comment
                while i < chars.count && !(chars[i] == "*" && peek(1) == "/") { current.append(chars[i]); i += 1 }
                if i < chars.count { current.append(contentsOf: [chars[i], chars[i + 1]]); i += 2 }
                continue
            }
            if c == "'" || c == "\"" {  // quoted literal or identifier
                current.append(c); i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == c { if peek(1) == c { current.append(chars[i + 1]); i += 2; continue }; i += 1; break }
                    i += 1
                }
                continue
            }
            if c == "$", let tag = dollarTag(chars, at: i) {  // $tag$ … $tag$
                let tagScalars = Array(tag.unicodeScalars)
                current.append(contentsOf: tagScalars); i += tagScalars.count
                while i < chars.count {
                    if chars[i] == "$", Array(chars[i..<min(chars.count, i + tagScalars.count)]) == tagScalars {
                        current.append(contentsOf: tagScalars); i += tagScalars.count; break
                    }
                    current.append(chars[i]); i += 1
                }
                continue
            }
            if c == ";" { flush(); i += 1; continue }
            current.append(c); i += 1
        }
        flush()
        return statements
    }

    private static func dollarTag(_ chars: [Unicode.Scalar], at start: Int) -> String? {
        var j = start + 1
        while j < chars.count, chars[j] == "_" || chars[j].properties.isAlphabetic || ("0"..."9").contains(chars[j]) { j += 1 }
        guard j < chars.count, chars[j] == "$" else { return nil }
        if j > start + 1, ("0"..."9").contains(chars[start + 1]) { return nil }  // $1 is a parameter
        return String(String.UnicodeScalarView(chars[start...j]))
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
    }
}
