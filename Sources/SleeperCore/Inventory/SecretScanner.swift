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

    /// Each shape with the literals one of which any match contains (nil: no such literal). The
    /// expressions run only on strings holding one: the literals are found byte by byte, and a
    /// million fingerprints ran all twenty-three expressions each before.
    private static let patterns: [(kind: String, anchors: [[UInt8]]?, regex: NSRegularExpression)] = [
        ("a private key block", ["-----BEGIN"], #"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"#),
        ("a GitHub token", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"], #"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"#),
        // Personal, runner, deploy, pipeline-trigger, OAuth, CI-job, service-account, feature-flag,
        // incoming-mail and agent tokens, as GitLab prefixes them.
        (
            "a GitLab token", ["glpat-", "glrt-", "gldt-", "glptt-", "gloas-", "glcbt-", "glsoat-", "glffct-", "glimt-", "glagent-"],
            #"\bgl(pat|rt|dt|ptt|oas|cbt|soat|ffct|imt|agent)-[A-Za-z0-9_\-]{20,}"#
        ),
        (
            "a Slack token", ["xox", "xapp-", "hooks.slack.com"],
            #"\b(xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]+-[A-Za-z0-9-]{10,})|hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]{16,}"#
        ),
        ("a Stripe secret key", ["k_live_", "k_test_"], #"\b[sr]k_(live|test)_[A-Za-z0-9]{16,}"#),
        ("a Google API key", ["AIza"], #"\bAIza[0-9A-Za-z_\-]{35}"#),
        ("an OpenAI-style secret key", ["sk-"], #"\bsk-(proj-)?[A-Za-z0-9_\-]{32,}"#),
        ("a JSON Web Token", ["eyJ"], #"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"#),
        // No literal: a run of at least 30 base64 characters is checked for instead (`awsRun`).
        ("an AWS secret access key", nil, #"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{30,40}=?(?![A-Za-z0-9/+=])"#),
        ("a Hugging Face token", ["hf_", "api_org_"], #"\b(hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,})"#),
        ("a PuTTY private key", ["PuTTY-User-Key-File-"], #"PuTTY-User-Key-File-[0-9]"#),
        ("an age secret key", ["AGE-SECRET-KEY-1"], #"AGE-SECRET-KEY-1[0-9A-Z]{50,}"#),
        ("a Twilio API key", ["SK"], #"\bSK[0-9a-fA-F]{32}\b"#),
        // An auth token is 32 hex digits like any MD5: told by its account SID beside it or the name.
        ("a Twilio auth token", ["AC", "twilio", "Twilio", "TWILIO"], #"\bAC[0-9a-f]{32}[:/ ,;]+[0-9a-f]{32}\b|(?i:twilio[A-Za-z_\- ]{0,24}[=: "']+[0-9a-f]{32}\b)"#),
        // Datadog API (32 hex) and application (40 hex) keys, likewise told by their name.
        ("a Datadog key", ["dd", "DD", "datadog", "Datadog", "DATADOG"], #"(?i:(?<![a-z])(dd|datadog)[_\- ]?(api|app|application)?[_\- ]?key[A-Za-z_\- ]{0,8}[=: "']+[0-9a-f]{32}([0-9a-f]{8})?\b)"#),
        ("a Docker Hub token", ["dckr_"], #"\bdckr_(pat|oat)_[A-Za-z0-9_\-]{20,}"#),
        ("a Discord bot token", ["."], #"\b[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}\b"#),
        ("a Mailgun key", ["key-"], #"\bkey-[0-9a-zA-Z]{32}\b"#),
        ("a Mailchimp key", ["-us"], #"\b[0-9a-f]{32}-us[0-9]{1,2}\b"#),
        ("a Shopify token", ["shpat_", "shpca_", "shppa_", "shpss_"], #"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{32}"#),
        ("a Databricks token", ["dapi"], #"\bdapi[0-9a-f]{32}"#),
        ("a DigitalOcean token", ["_v1_"], #"\bdo[opr]_v1_[a-f0-9]{64}"#),
        ("a SendGrid key", ["SG."], #"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"#),
        ("an npm token", ["npm_"], #"\bnpm_[A-Za-z0-9]{36}"#),
        ("an Anthropic-style key", ["sk-ant-"], #"\bsk-ant-[A-Za-z0-9_\-]{20,}"#),
        // An HTTP Authorization header with its credentials, as curl commands and configs carry it.
        ("an Authorization header", ["uthorization", "UTHORIZATION"], #"(?i:authorization["']?\s*[:=]\s*["']?(basic|bearer|token|digest)\s+[A-Za-z0-9+/=._~\-]{8,})"#),
        // NAME=value or NAME: value, as environment files, YAML, JDBC URLs (`?password=`) and
        // ADO.NET strings write them; a quoted value counts, a reference (`${VAR}`, `<…>`) does not.
        (
            "an assignment of a secret", ["=", ":"],
            #"(?i:(?<![a-z])(aws_secret_access_key|aws_session_token|client_secret|secret_key|secret|password|passwd|pass|pwd|api_?key|access_token|auth_token|token|account_?key|shared_?access_?key)["']?\s*=\s*["']?[^\s;&"'$<{%][^\s;&"']{5,}|(?<![a-z])(aws_secret_access_key|client_secret|secret_key|secret|password|passwd|pass|pwd|api_?key|access_token|auth_token|token)["']?\s*:(\s+["']?|\s*["'])(?!https?:)(?=[^\s;&"',]*[A-Za-z])[^\s;&"'$<{%,][^\s;&"',]{7,})"#
        ),
        ("a connection string with a password", ["://"], #"(?i:[a-z][a-z0-9+.\-]*://[^/\s:@]*:[^\s@]+@)"#),
    ].map { ($0.0, $0.1.map { $0.map { Array($0.utf8) } }, try! NSRegularExpression(pattern: $0.2)) }

    /// Whether `bytes` contain `needle`.
    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, bytes.count >= needle.count else { return false }
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count, bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Whether `bytes` hold a run of at least 30 base64 characters (what an AWS secret key is).
    private static func hasLongBase64Run(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var run = 0
        for u in bytes {
            let inRun = (u >= 48 && u <= 57) || (u >= 65 && u <= 90) || (u >= 97 && u <= 122) || u == 43 || u == 47
            run = inRun ? run + 1 : 0
            if run >= 30 { return true }
        }
        return false
    }

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
                    collector.reportSecret(c.path, kind: kind)
                    found.insert(c.path)
                }
            default: break
            }
        }
        walk(c)
        return found
    }

    /// Returns what kind of secret `value` looks like, or nil. `field` is the last path component.
    /// Only the known secret shapes, not the entropy rule: for paths, file names and model names
    /// in a report, where a random directory or run id is common and is not a secret.
    public static func knownSecretKind(of value: String) -> String? { secretKind(of: value, field: "fingerprint") }

    public static func secretKind(of value: String, field: String) -> String? {
        guard value.utf8.count >= 12, mayHoldSecret(value) else { return nil }
        let range = NSRange(value.startIndex..., in: value)
        var value = value
        let candidates = value.withUTF8 { bytes in
            patterns.indices.filter { i in
                guard let anchors = patterns[i].anchors else { return hasLongBase64Run(bytes) }
                return anchors.contains { contains(bytes, $0) }
            }
        }
        for (kind, _, regex) in candidates.map({ patterns[$0] }) {
            guard let match = regex.firstMatch(in: value, range: range) else { continue }
            if kind == "an AWS secret access key" {
                // Bare 40-character base64 is only suspicious when it mixes case and digits
                // like a real key, not when it is a hex digest or a slug.
                let token = String(value[Range(match.range, in: value)!])
                guard token.count == 40, looksLikeBase64Key(token), !isEncodedText(token) else { continue }
            }
            return kind
        }
        // Random tokens have a long unbroken random part; identifiers (`Qwen/Qwen2.5-Coder-32B-Instruct`,
        // role ARNs, `role/SleeperReadOnlyRole`) are words and numbers between separators.
        // The whole string must look random before its longest run is looked at (cheap first).
        if !identifierFields.contains(field), value.utf8.count >= 24, looksRandom(value), !value.utf8.contains(UInt8(ascii: " ")),
            !fingerprintShapes.contains(where: { matches($0, value) })
        {
            let run = longestTokenRun(value)
            if run.utf8.count >= 20, looksRandom(run), entropy(run) >= 4.0, !isEncodedText(run) { return "a high-entropy string" }
        }
        return nil
    }

    /// Whether `run` is base64 of readable text (`ZGF0YXNldC1zdXBwb3J0LXRpY2tldHM=`, a dataset id
    /// some catalogs encode): a key is random bytes, which almost never decode to printable ASCII.
    static func isEncodedText(_ run: String) -> Bool {
        var text = run.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.utf8.count % 4 != 0 { text += "=" }
        guard let bytes = Data(base64Encoded: text), bytes.count >= 12 else { return false }
        let printable = bytes.filter { ($0 >= 32 && $0 < 127) || $0 == 10 || $0 == 9 }.count
        return printable == bytes.count
    }

    /// Every stretch of `text` that is secret material, replaced by what it resembles: for
    /// messages, log lines and audit rows that quote a value or a key derived from one. Known
    /// shapes anywhere, and any quoted or space-separated word that the full check refuses.
    public static func redacted(_ text: String) -> String {
        guard text.utf8.count >= 12, mayHoldSecret(text) || text.utf8.count >= 24 else { return text }
        var out =
            text.contains("-----BEGIN")
            ? text.replacing(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)/, with: "[a private key block, not shown]") : text
        // Only the shapes whose literal the text holds (as `secretKind` does): a message is checked
        // in microseconds, and an import with many problems makes many messages.
        var bytes = out
        let candidates = bytes.withUTF8 { b in patterns.filter { p in p.anchors.map { $0.contains { contains(b, $0) } } ?? false } }
        for (kind, _, regex) in candidates {
            let ns = out as NSString
            let found = regex.matches(in: out, range: NSRange(location: 0, length: ns.length))
            guard !found.isEmpty else { continue }
            let mutable = NSMutableString(string: out)
            for m in found.reversed() { mutable.replaceCharacters(in: m.range, with: "[\(kind), not shown]") }
            out = mutable as String
        }
        // Words (between spaces, quotes and brackets) of a known shape, and their parts (between
        // the marks paths, ids and keys are built with) that look random: a value judged secret
        // may reach a message inside a key made from it (`acme/TOKEN`).
        let separators = CharacterSet(charactersIn: " \t\n'\"`()[]{}<>,;")
        let inner = CharacterSet(charactersIn: "/-.:=@_")
        for word in Set(out.components(separatedBy: separators)) where word.utf8.count >= 12 && !fingerprintShapes.contains(where: { matches($0, word) }) {
            if let kind = knownSecretKind(of: word) { out = out.replacingOccurrences(of: word, with: "[\(kind), not shown]"); continue }
            for part in Set(word.components(separatedBy: inner)) where part.utf8.count >= 20 {
                if let kind = secretKind(of: part, field: "note") { out = out.replacingOccurrences(of: part, with: "[\(kind), not shown]") }
            }
            // An AWS secret key inside a longer path (`acme/KEY`): 40 base64 characters after a separator.
            let chars = Array(word.utf8)
            guard chars.count >= 40 else { continue }
            func base64(_ u: UInt8) -> Bool { (u >= 48 && u <= 57) || (u >= 65 && u <= 90) || (u >= 97 && u <= 122) || u == 43 || u == 47 || u == 61 }
            for start in 0...(chars.count - 40)
            where (start == 0 || [47, 58, 61, 64, 46].contains(chars[start - 1]))
                && (start + 40 == chars.count || !base64(chars[start + 40]))
            {
                let candidate = String(decoding: chars[start..<(start + 40)], as: UTF8.self)
                if candidate.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 43 || $0 == 47 }),
                    looksLikeBase64Key(candidate), !isEncodedText(candidate)
                {
                    out = out.replacingOccurrences(of: candidate, with: "[an AWS secret access key, not shown]")
                }
            }
        }
        return out
    }

    /// The longest run of bytes a token is made of (ASCII letters, digits, `+`, `=`). A `/` ends
    /// a run: a path's segments (`…/E3F80BF9D61F/keys/signing`) are not one token, and a base64
    /// secret's runs between slashes are still long (AWS keys have their own rule).
    static func longestTokenRun(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var best = 0..<0, start = 0
        for (i, u) in bytes.enumerated() {
            let inToken = (u >= 48 && u <= 57) || (u >= 65 && u <= 90) || (u >= 97 && u <= 122) || u == 43 || u == 61
            if !inToken { start = i + 1 } else if i + 1 - start > best.count { best = start..<(i + 1) }
        }
        return String(decoding: bytes[best], as: UTF8.self)
    }

    private static func compiled(_ patterns: [String]) -> [NSRegularExpression] {
        patterns.map { try! NSRegularExpression(pattern: $0) }
    }

    private static func matches(_ regex: NSRegularExpression, _ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    private static let digestShape = compiled([#"^(sha256|sha384|sha512|sha1|md5|blake2b|blake3|sha3-256|sha3-512):[0-9a-fA-F]{4,128}$"#])[0]
    private static let fingerprintShapes = compiled([
        #"^([0-9a-fA-F]{2}:){3,63}[0-9a-fA-F]{2}$"#, #"^SHA256:[A-Za-z0-9+/]{6,43}=?$"#,
        #"^[a-z0-9-]{2,12}:[0-9a-fA-F]{4,128}$"#, #"^arn:[a-z0-9-]+:[a-z0-9-]*:[a-z0-9-]*:[0-9]*:[A-Za-z0-9+=,.@_/:-]{1,200}$"#,
        #"^(AKIA|ASIA|AIDA|AROA|ANPA)[A-Z0-9]{12,16}$"#,
    ])

    /// A model digest is `ALG:HEX`; anything else is refused (without being shown), so that a
    /// secret pasted there cannot pass as a digest.
    public static func digestProblem(_ value: String) -> String? {
        matches(digestShape, value) ? nil : "must be ALG:HEX (sha256:…, sha512:…, blake3:…); the value is not shown"
    }

    /// A fingerprint identifies a secret without being one: a hex hash or hash prefix (colons
    /// allowed), `SHA256:…` as ssh-keygen prints it, `ALG:HEX`, an ARN, an AWS access key id, or a
    /// short id (at most 64 characters, no long random run). Anything else is refused unshown.
    public static func fingerprintProblem(_ value: String) -> String? {
        let bytes = value.utf8
        func isHex(_ u: UInt8) -> Bool { (u >= 48 && u <= 57) || (u >= 65 && u <= 70) || (u >= 97 && u <= 102) }
        // The common shapes by bytes: a hex hash or prefix, and a short id without a long random run.
        if (6...128).contains(bytes.count), bytes.allSatisfy(isHex) { return nil }
        if bytes.count <= 64, let first = bytes.first, (first >= 48 && first <= 57) || (first >= 65 && first <= 90) || (first >= 97 && first <= 122),
            bytes.allSatisfy({ u in (u >= 48 && u <= 57) || (u >= 65 && u <= 90) || (u >= 97 && u <= 122) || [46, 95, 58, 47, 64, 45].contains(u) }),
            longestTokenRun(value).utf8.count < 20
        {
            return nil
        }
        if fingerprintShapes.contains(where: { matches($0, value) }) { return nil }
        return "must be a key id or a hash prefix (hex, SHA256:… as ssh-keygen prints it, ALG:HEX, an ARN, an AWS access key id, or a short id); the value is not shown"
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
        // Every pattern needs letters of both cases or digits mixed with letters, or a key block,
        // a URL, an assignment or a PuTTY header. Bytes first: substring searches on every string
        // of a million-credential import cost seconds.
        var equals = false, colon = false, dashes = false, capitalP = false
        for u in s.utf8 {
            switch u {
            case UInt8(ascii: "="): equals = true
            case UInt8(ascii: ":"): colon = true
            case UInt8(ascii: "-"): dashes = true
            case UInt8(ascii: "P"): capitalP = true
            default: break
            }
        }
        if equals || (colon && s.contains("://")) || (dashes && s.contains("-----BEGIN")) || (capitalP && s.contains("PuTTY")) { return true }
        // `password: …`, `Authorization: Basic …`: a colon after a name that says secret.
        if colon, s.utf8.count >= 12 {
            let lower = s.lowercased()
            if ["pass", "pwd", "secret", "token", "key", "authorization"].contains(where: { lower.contains($0) }) { return true }
        }
        // No token pattern matches fewer than 15 characters (a Slack token is the shortest): the
        // keys and names that make up most of an inventory stop here.
        guard s.utf8.count >= 15 else { return false }
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
