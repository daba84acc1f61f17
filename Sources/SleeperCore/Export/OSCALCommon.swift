import Foundation

/// Pieces every Sleeper OSCAL document shares: metadata, Sleeper-namespaced properties and the
/// conversion of framework item IDs into OSCAL tokens.
enum OSCAL {
    static let version = "1.2.1"
    /// Properties Sleeper defines are qualified by this namespace, as OSCAL asks of names it does not define.
    static let namespace = "urn:sleeper:oscal"

    static func prop(_ name: String, _ value: String) -> JSONValue? {
        let v = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !v.isEmpty else { return nil }
        return .obj([("name", .string(name)), ("ns", .string(namespace)), ("value", .string(v))])
    }

    static func props(_ pairs: [(String, String?)]) -> JSONValue? {
        JSONValue.nonEmpty(pairs.compactMap { name, value in value.flatMap { prop(name, $0) } })
    }

    static func metadata(title: String, snapshot: ComplianceSnapshot, extra: [(String, String?)] = []) -> JSONValue {
        .obj([
            ("title", .string(title)),
            ("last-modified", .string(Timestamps.format(snapshot.asOf))),
            ("version", .string("as of \(Timestamps.format(snapshot.asOf)); ledger head \(snapshot.ledgerHead.prefix(16))")),
            ("oscal-version", .string(version)),
            (
                "props",
                props(
                    [
                        ("as-of", Timestamps.format(snapshot.asOf)), ("ledger-head", snapshot.ledgerHead),
                        ("ledger-verified", snapshot.ledgerProblems.isEmpty ? "true" : "false"),
                        ("score-run", snapshot.runID.map(String.init)), ("score-run-as-of", snapshot.runAsOf.map(Timestamps.format)),
                        ("weights-version", snapshot.weightsVersion), ("evidence-basis", snapshot.basis.rawValue),
                        ("sleeper-version", snapshot.toolVersion),
                    ] + extra)
            ),
            ("remarks", snapshot.unverifiedBanner.map(JSONValue.string)),
        ])
    }

    /// OSCAL tokens allow letters, digits, `.`, `-` and `_`; IDs such as `GOVERN 1.1` or
    /// `LLM01:2025` keep their original form in an `item-id` property.
    static func token(_ id: String) -> String {
        var out = String(
            id.unicodeScalars.map { c -> Character in
                CharacterSet.alphanumerics.contains(c) || c == "." || c == "-" || c == "_" ? Character(c) : "_"
            })
        if let first = out.unicodeScalars.first, !(CharacterSet.letters.contains(first) || first == "_") { out = "_" + out }
        return out
    }

    static func subjectUUID(_ s: Subject) -> String { NameUUID.make("subject", s.kind.rawValue, s.key) }

    static func date(_ seconds: Int) -> String { Timestamps.format(Date(timeIntervalSince1970: TimeInterval(seconds))) }
}
