/// Text cut into tokens the same way for inputs and outputs: lower-case ASCII words and numbers,
/// runs of ASCII punctuation, and every character outside ASCII on its own (so an odd Unicode
/// character pasted into words stands out as a token of its own). Tokens are 64-bit hashes; the
/// text of a token is only made again for the few n-grams a report names.
public enum TextTokens {
    enum Class { case space, word, punct, other }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b <= 32 || b == 127 }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }

    @inline(__always) static func classOf(_ b: UInt8) -> Class {
        if b >= 0x80 { return .other }
        if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) { return .word }
        if b <= 32 || b == 127 { return .space }
        return .punct
    }

    /// Calls `body` with each token's hash and byte range in `text`.
    @inline(__always)
    static func forEach(_ text: UnsafeBufferPointer<UInt8>, _ body: (UInt64, Range<Int>) -> Void) {
        var i = 0
        let n = text.count
        while i < n {
            let b = text[i]
            let kind = classOf(b)
            if kind == .space { i += 1; continue }
            let start = i
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            if kind == .other {
                // One UTF-8 sequence: the lead byte says how long.
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                let end = min(n, i + length)
                while i < end { h = (h ^ UInt64(text[i])) &* 0x100_0000_01b3; i += 1 }
            } else {
                while i < n, classOf(text[i]) == kind { h = (h ^ UInt64(lower(text[i]))) &* 0x100_0000_01b3; i += 1 }
            }
            body(h ^ (h >> 29), start..<i)
        }
    }

    public static func hashes(_ text: String) -> [UInt64] {
        var out: [UInt64] = []
        var copy = text
        copy.withUTF8 { buffer in forEach(buffer) { h, _ in out.append(h) } }
        return out
    }

    /// The tokens with their text (lower-cased as they were hashed), for naming what was found.
    public static func texts(_ text: String) -> [(hash: UInt64, text: String)] {
        var out: [(UInt64, String)] = []
        var copy = text
        copy.withUTF8 { buffer in
            forEach(buffer) { h, range in out.append((h, String(decoding: buffer[range].map(lower), as: UTF8.self))) }
        }
        return out
    }

    /// Invisible and control characters written as `<U+200B>`, so that a report shows a
    /// zero-width trigger instead of printing nothing.
    public static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .format, .control, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .surrogate:
                out += "<U+\(String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4))>"
            case .spaceSeparator where scalar != " ":
                out += "<U+\(String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4))>"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Each n-gram of 1 to `longest` tokens: its hash, where it starts and its length.
    @inline(__always)
    static func forEachNGram(_ tokens: UnsafeBufferPointer<UInt64>, upTo longest: Int, _ body: (UInt64, Int, Int) -> Void) {
        for n in 1...longest where n <= tokens.count {
            for start in 0...(tokens.count - n) { body(ngram(tokens, start, n), start, n) }
        }
    }

    /// The hash a token has as a one-token n-gram.
    static func unigram(_ token: UInt64) -> UInt64 {
        [token].withUnsafeBufferPointer { ngram($0, 0, 1) }
    }

    /// The hash of the n-gram `tokens[start..<start+n]`; n-grams of different lengths never share one by construction of the seed.
    @inline(__always)
    static func ngram(_ tokens: UnsafeBufferPointer<UInt64>, _ start: Int, _ n: Int) -> UInt64 {
        var g: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(n)
        for k in start..<(start + n) { g = ((g << 23) | (g >> 41)) ^ tokens[k]; g = g &* 0xff51_afd7_ed55_8ccd }
        return g ^ (g >> 32)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
