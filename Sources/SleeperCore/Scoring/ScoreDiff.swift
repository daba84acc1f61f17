/// What got worse and what got better between two scoring runs, and why.
public enum ScoreDiff {
    public struct Side: Sendable {
        public var score: Int, p: Double, hygiene: Double
        public var model: String?, agent: String?, main: String
        public var hygieneTerms: [String]
        public init(score: Int, p: Double, hygiene: Double, model: String?, agent: String?, main: String, hygieneTerms: [String]) {
            self.score = score
            self.p = p
            self.hygiene = hygiene
            self.model = model
            self.agent = agent
            self.main = main
            self.hygieneTerms = hygieneTerms
        }
    }

    public struct Row: Sendable {
        public var credential: String
        public var before: Int?
        public var after: Int?
        public var change: Int { (after ?? 0) - (before ?? 0) }
        public var reasons: [String]
        public init(credential: String, before: Int?, after: Int?, reasons: [String]) {
            self.credential = credential
            self.before = before
            self.after = after
            self.reasons = reasons
        }
    }

    static let termWords: [String: (gained: String, lost: String)] = [
        "not_rotated": ("not rotated for over 90 days", "rotated"),
        "no_expiry": ("lost its expiry", "given an expiry"),
        "unused": ("unused for over 90 days", "used again"),
        "no_owner": ("lost its owner", "given an owner"),
        "shared": ("now held by more than one agent", "no longer shared"),
        "exposed": ("reported exposed", "no longer marked exposed"),
        "short_lived": ("made short-lived", "no longer short-lived"),
        "federated": ("federated", "no longer federated"),
    ]

    /// Explains the change of one credential from its two sides.
    public static func reasons(before: Side?, after: Side?) -> [String] {
        guard let before else { return ["new credential or newly connected"] }
        guard let after else { return ["no longer in the inventory"] }
        var reasons: [String] = []
        // A failed scan is named wherever it sits upstream: on the top model or inherited into it.
        // A failed check or a recall, on the top model or inherited into it.
        let failed = #/(^|, )(failed [^,]+|recalled \(recall #[0-9]+\)) on /#
        let (failedAfter, failedBefore) = (after.main.contains(failed), before.main.contains(failed))
        if failedAfter && (!failedBefore || after.main != before.main) { reasons.append("new \(after.main)") }
        if failedBefore && !failedAfter { reasons.append("\(before.main) no longer stands") }
        if (after.model, after.agent) != (before.model, before.agent), after.p != before.p {
            reasons.append("top path now \(after.model ?? "none") → \(after.agent ?? "none") (was \(before.model ?? "none") → \(before.agent ?? "none"))")
        } else if after.p > before.p + 1e-9 && reasons.isEmpty {
            reasons.append("upstream likelihood rose: evidence expired or lapsed, or a model changed")
        } else if after.p < before.p - 1e-9 && reasons.isEmpty {
            reasons.append("upstream likelihood fell: control evidence took effect")
        }
        let gained = Set(after.hygieneTerms).subtracting(before.hygieneTerms), lost = Set(before.hygieneTerms).subtracting(after.hygieneTerms)
        for t in gained.sorted() { reasons.append(termWords[t]?.gained ?? "+\(t)") }
        for t in lost.sorted() { reasons.append(termWords[t]?.lost ?? "−\(t)") }
        return reasons.isEmpty ? ["weights or impact changed"] : reasons
    }
}
