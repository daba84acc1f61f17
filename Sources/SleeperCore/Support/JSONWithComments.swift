import Foundation

/// VS Code's settings and `mcp.json` are JSON with comments (`//`, `/* */`) and trailing commas.
/// They are read as JSON once those are blanked out: each such byte becomes a space (newlines
/// stay), so that a problem is still reported at its line and column. Strings are left as they
/// are, `//` inside a URL included.
public enum JSONWithComments {
    public static func plain(_ data: Data) -> Data {
        var out = [UInt8](data)
        // Comments first, then the commas they may have hidden a closing bracket behind.
        blank(&out) { out, i in
            guard out[i] == UInt8(ascii: "/"), i + 1 < out.count else { return 0 }
            if out[i + 1] == UInt8(ascii: "/") {
                var j = i
                while j < out.count, out[j] != 0x0A { j += 1 }
                return j - i
            }
            if out[i + 1] == UInt8(ascii: "*") {
                var j = i + 2
                while j + 1 < out.count, !(out[j] == UInt8(ascii: "*") && out[j + 1] == UInt8(ascii: "/")) { j += 1 }
                return min(out.count, j + 2) - i
            }
            return 0
        }
        blank(&out) { out, i in
            guard out[i] == UInt8(ascii: ",") else { return 0 }
            var j = i + 1
            while j < out.count, out[j] == 0x20 || out[j] == 0x0A || out[j] == 0x0D || out[j] == 0x09 { j += 1 }
            return j < out.count && (out[j] == UInt8(ascii: "}") || out[j] == UInt8(ascii: "]")) ? 1 : 0
        }
        return Data(out)
    }

    /// Blanks, outside strings, the runs `run` finds (their length at a position; 0: none there).
    static func blank(_ out: inout [UInt8], _ run: ([UInt8], Int) -> Int) {
        var i = 0, inString = false
        while i < out.count {
            let b = out[i]
            if inString {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true; i += 1; continue }
            let length = run(out, i)
            if length > 0 {
                for k in i..<(i + length) where out[k] != 0x0A { out[k] = 0x20 }
                i += length
                continue
            }
            i += 1
        }
    }
}
