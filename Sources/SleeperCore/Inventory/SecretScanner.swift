import Foundation

/// Recognises values that look like secret material so that they are refused before anything
/// is stored or logged. A hit reports which kind of secret it resembles, never the value.
public enum SecretScanner {
    /// Field names whose presence alone means a secret was pasted into the file.
    public static let forbiddenFieldNames: Set<String> = [
        "secret", "secret_key", "client_secret", "password", "passwd", "private_key",
        "token", "access_token", "refresh_token", "api_key_value", "secret_value", "value",
        "aws_secret_access_key", "connection_string",
    ]

    /// Fields meant to identify a secret without revealing it (key ids, hash prefixes, digests):
    /// exempt from the entropy rule, still checked against the known secret shapes.
    public static let identifierFields: Set<String> = ["fingerprint", "digest"]

    private static let patterns: [(kind: String, regex: NSRegularExpression)] = [
        ("a private key block", #"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"#),
        ("a GitHub token", #"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"#),
        ("a GitLab token", #"\bglpat-[A-Za-z0-9_\-]{20,}"#),
        ("a Slack token", #"\bxox[abposr]-[A-Za-z0-9-]{10,}"#),
        ("a Stripe secret key", #"\b[sr]k_(live|test)_[A-Za-z0-9]{16,}"#),
        ("a Google API key", #"\bAIza[0-9A-Za-z_\-]{35}"#),
        ("an OpenAI-style secret key", #"\bsk-(proj-)?[A-Za-z0-9_\-]{32,}"#),
        ("a JSON Web Token", #"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"#),
        ("an AWS secret access key", #"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{30,40}=?(?![A-Za-z0-9/+=])"#),
        ("a connection string with a password", #"[a-z][a-z0-9+.\-]*://[^/\s:@]+:[^/\s@]+@"#),
    ].map { ($0.0, try! NSRegularExpression(pattern: $0.1)) }

    /// Every string anywhere under `c`, known field or not, and every field name: a secret pasted
    /// into a free-form field is as dangerous as one in a known field. Returns the paths reported,
    /// so that no later message about the same value can repeat it.
    @discardableResult
    public static func scan(_ c: DocumentCursor, into collector: ProblemCollector) -> Set<String> {
        var found: Set<String> = []
        func walk(_ c: DocumentCursor) {
            switch c.value {
            case .object(let dict)?:
                for key in dict.keys.sorted() {
                    if forbiddenFieldNames.contains(key.lowercased()) {
                        collector.report(c[key].path, "fields named '\(key)' may hold secret material and are refused; record metadata (fingerprint, scopes, times) only")
                        found.insert(c[key].path)
                        continue
                    }
                    walk(c[key])
                }
            case .array?:
                c.elements?.forEach(walk)
            case .string(let s)?:
                if let kind = secretKind(of: s, field: c.fieldName) {
                    collector.report(c.path, "looks like secret material (\(kind)); the value is not shown and nothing was written")
                    found.insert(c.path)
                }
            default: break
            }
        }
        walk(c)
        return found
    }

    /// Returns what kind of secret `value` looks like, or nil. `field` is the last path component.
    public static func secretKind(of value: String, field: String) -> String? {
        guard value.utf8.count >= 16, mayHoldSecret(value) else { return nil }
        let range = NSRange(value.startIndex..., in: value)
        for (kind, regex) in patterns {
            guard let match = regex.firstMatch(in: value, range: range) else { continue }
            if kind == "an AWS secret access key" {
                // Bare 40-character base64 is only suspicious when it mixes case and digits
                // like a real key, not when it is a hex digest or a slug.
                let token = String(value[Range(match.range, in: value)!])
                guard token.count == 40, looksLikeBase64Key(token) else { continue }
            }
            return kind
        }
        if !identifierFields.contains(field), value.count >= 24, looksRandom(value), entropy(value) >= 4.2,
           !value.contains(" ") {
            return "a high-entropy string"
        }
        return nil
    }

    /// How many characters of each class a string has; one pass serves every heuristic below.
    struct Classes {
        var upper = 0, lower = 0, digit = 0, marks = 0, base64Marks = 0
        init(_ s: String) {
            for u in s.utf8 {
                switch u {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): upper += 1
                case UInt8(ascii: "a")...UInt8(ascii: "z"): lower += 1
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit += 1
                case UInt8(ascii: "/"), UInt8(ascii: "+"): marks += 1; base64Marks += 1
                case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "="): marks += 1
                default: break
                }
            }
        }
    }

    /// A cheap first look, so that the regular expressions run only on strings that could match:
    /// a hundred thousand credentials carry about a million short, plain strings.
    static func mayHoldSecret(_ s: String) -> Bool {
        // Every pattern needs letters of both cases or digits mixed with letters, or a key block / URL.
        if s.contains("-----BEGIN") || s.contains("://") { return true }
        let c = Classes(s)
        return (c.upper >= 2 && (c.lower >= 2 || c.digit >= 2)) || (c.lower >= 4 && c.digit >= 4 && c.marks >= 1) || (c.lower >= 8 && c.digit >= 8)
    }

    /// Mixed upper, lower and digits, as random tokens are and words, slugs and hex digests are not.
    static func looksRandom(_ s: String) -> Bool {
        let c = Classes(s)
        return c.upper >= 3 && c.lower >= 3 && c.digit >= 2
    }

    /// Base64 of random bytes: both cases and some digits or `/`/`+`, unlike words and hex digests.
    static func looksLikeBase64Key(_ s: String) -> Bool {
        let c = Classes(s)
        return c.upper >= 4 && c.lower >= 4 && c.digit + c.base64Marks >= 2 && entropy(s) >= 4.0
    }

    /// Shannon entropy in bits per character.
    static func entropy(_ s: String) -> Double {
        var counts: [Character: Int] = [:]
        for c in s { counts[c, default: 0] += 1 }
        let n = Double(s.count)
        return counts.values.reduce(0) { acc, c in
            let p = Double(c) / n
            return acc - p * log2(p)
        }
    }
}
