/// What got worse and what got better between two scoring runs, and why.
public enum ScoreDiff {
    public struct Side: Sendable {
        public var score: Int, p: Double, hygiene: Double
        public var model: String?, agent: String?, main: String
        public var hygieneTerms: [String]
        /// The resource of the credential's most critical grant.
        public var resource: String?
        public init(score: Int, p: Double, hygiene: Double, model: String?, agent: String?, main: String, hygieneTerms: [String], resource: String? = nil) {
            self.score = score
            self.p = p
            self.hygiene = hygiene
            self.model = model
            self.agent = agent
            self.main = main
            self.hygieneTerms = hygieneTerms
            self.resource = resource
        }
    }

    /// What changed between the two runs on the paths that reach a credential now: each model whose
    /// output reaches it (through one of its holders, directly or by delegation), with that model's
    /// L* and main factor in both runs (nil: the run did not score it). A reason is read from these,
    /// on any path, not only the top one.
    public struct Context: Sendable {
        public struct Reach: Sendable, Equatable {
            public var model: String
            public var before: Double?, after: Double?
            public var mainBefore: String?, mainAfter: String?
            public init(model: String, before: Double?, after: Double?, mainBefore: String?, mainAfter: String?) {
                (self.model, self.before, self.after, self.mainBefore, self.mainAfter) = (model, before, after, mainBefore, mainAfter)
            }
            var delta: Double { (after ?? 0) - (before ?? 0) }
        }
        public var reaching: [Reach]
        /// When nothing reaches it now: the first break in the chain.
        public var unreached: UnreachedReason?
        /// Evidence on the agents along its paths recorded or lapsed between the runs, in words.
        public var agentEvidence: [String]
        public init(reaching: [Reach], unreached: UnreachedReason?, agentEvidence: [String] = []) {
            (self.reaching, self.unreached, self.agentEvidence) = (reaching, unreached, agentEvidence)
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

    /// A failed check or a recall, on the top model or inherited into it, as main factors name them.
    ///
    /// Read without a regular expression: a regex literal is compiled again at each call, and at
    /// 100k changed credentials that was 12 of a diff's 14.5 s.
    static func namesFailure(_ main: String) -> Bool {
        main.components(separatedBy: ", ").contains { part in
            if part.hasPrefix("failed "), let on = part.range(of: " on "), on.lowerBound > part.index(part.startIndex, offsetBy: 7) { return true }
            guard part.hasPrefix("recalled (recall #") else { return false }
            let rest = part.dropFirst("recalled (recall #".count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            return !digits.isEmpty && rest.dropFirst(digits.count).hasPrefix(") on ")
        }
    }

    static func number(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "none" }

    /// Explains the change of one credential from its two sides and, when known, what changed on
    /// the paths that reach it now. Without a context, only the two sides are read.
    public static func reasons(before: Side?, after: Side?, context: Context? = nil) -> [String] {
        guard let before else { return ["new credential or newly connected"] }
        guard let after else { return ["no longer in the inventory"] }
        var reasons = context.map { pathReasons(before: before, after: after, context: $0) } ?? sideReasons(before: before, after: after)
        let gained = Set(after.hygieneTerms).subtracting(before.hygieneTerms), lost = Set(before.hygieneTerms).subtracting(after.hygieneTerms)
        for t in gained.sorted() { reasons.append(termWords[t]?.gained ?? "+\(t)") }
        for t in lost.sorted() { reasons.append(termWords[t]?.lost ?? "−\(t)") }
        if before.resource != after.resource, let r = after.resource {
            reasons.append("its most critical grant is now on \(r)\(before.resource.map { " (was \($0))" } ?? "")")
        }
        return reasons.isEmpty ? ["weights or impact changed"] : reasons
    }

    /// Reasons from what changed on the paths: a path that went, models whose L* changed (largest
    /// change first: a new failed check, one that no longer stands), a new top path.
    static func pathReasons(before: Side, after: Side, context: Context) -> [String] {
        var reasons: [String] = []
        if context.unreached == .notLive, after.p == 0 {
            return ["not live any more: disabled, revoked or expired at its source"]
        }
        let reaching = Set(context.reaching.map(\.model))
        if let m = before.model, before.p > 0, !reaching.contains(m) {
            let path = "\(m) → \(before.agent ?? "?")"
            if let why = context.unreached ?? (reaching.isEmpty ? .noModel : nil) {
                reasons.append("the path \(path) no longer reaches it, and no model does (\(why.rawValue))")
            } else {
                reasons.append("the path \(path) no longer reaches it; top path now \(after.model ?? "none") → \(after.agent ?? "none")")
            }
        } else if before.model == nil || before.p == 0, let m = after.model, after.p > 0 {
            reasons.append("now reached: \(m) → \(after.agent ?? "?")")
        }
        let changed = context.reaching.filter { abs($0.delta) > 1e-9 || ($0.before == nil) != ($0.after == nil) }
            .sorted { (abs($1.delta), $0.model) < (abs($0.delta), $1.model) }
        for r in changed.prefix(3) {
            let l = "L* of \(r.model) \(number(r.before)) → \(number(r.after))"
            if r.before == nil {
                reasons.append("\(r.model) newly scored (L* \(number(r.after))): \(r.mainAfter ?? "")")
            } else if r.delta > 0 {
                reasons.append("\(r.mainAfter.map { namesFailure($0) ? "new \($0)" : $0 } ?? "?") (\(l))")
            } else if let old = r.mainBefore, namesFailure(old), r.mainAfter != old {
                reasons.append("\(old) no longer stands (\(l))")
            } else {
                reasons.append("\(l): now \(r.mainAfter ?? "?")")
            }
        }
        if changed.count > 3 { reasons.append("and \(changed.count - 3) more model(s) on its paths changed") }
        let named = reasons.contains { $0.contains("top path now") }
        if !named, (after.model, after.agent) != (before.model, before.agent), before.model.map(reaching.contains) ?? false, after.p != before.p {
            reasons.append("top path now \(after.model ?? "none") → \(after.agent ?? "none") (was \(before.model ?? "none") → \(before.agent ?? "none"))")
        }
        if abs(after.p - before.p) > 1e-9, changed.isEmpty {
            reasons += context.agentEvidence.prefix(3)
            if context.agentEvidence.count > 3 { reasons.append("and \(context.agentEvidence.count - 3) more agent check(s) on its paths") }
        }
        if reasons.isEmpty, abs(after.p - before.p) > 1e-9 {
            // No model on its paths changed: a path was added or went, or an agent on one changed.
            reasons.append(
                "\(after.p > before.p ? "a path was added or an agent on one became riskier" : "a path went or an agent on one became safer") "
                    + "(no model's L* changed; now \(reaching.count) model(s) reach it)")
        }
        return reasons
    }

    /// Reasons from the two sides alone: a failed check new or gone on the top model, a new top path.
    static func sideReasons(before: Side, after: Side) -> [String] {
        var reasons: [String] = []
        let (failedAfter, failedBefore) = (namesFailure(after.main), namesFailure(before.main))
        if failedAfter && (!failedBefore || after.main != before.main) { reasons.append("new \(after.main)") }
        if failedBefore && !failedAfter { reasons.append("\(before.main) no longer stands") }
        if (after.model, after.agent) != (before.model, before.agent), after.p != before.p {
            reasons.append("top path now \(after.model ?? "none") → \(after.agent ?? "none") (was \(before.model ?? "none") → \(before.agent ?? "none"))")
        } else if after.p > before.p + 1e-9 && reasons.isEmpty {
            reasons.append("upstream likelihood rose: evidence expired or lapsed, or a model changed")
        } else if after.p < before.p - 1e-9 && reasons.isEmpty {
            reasons.append("upstream likelihood fell: control evidence took effect")
        }
        return reasons
    }
}
