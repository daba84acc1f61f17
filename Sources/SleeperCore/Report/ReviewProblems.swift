import Foundation

/// What is known to be wrong, for the review's first pages: open runtime findings, exposed
/// credentials, and the credentials no model reaches (whose backdoor score is 0 for a reason the
/// reader must see). Failed checks come from the snapshot's statuses. Loaded by the store; the
/// report ranks and renders them.
public struct ReviewProblems: Sendable {
    /// An open runtime finding, with the riskiest credential its agent holds (by the latest run).
    public struct Finding: Sendable {
        public var finding: RecordedFinding
        public var worstCredential: String?
        public var worstScore: Int?
        /// The most sensitive tier its agent's credentials reach (0 is the crown jewels).
        public var bestTier: Int?
        public init(finding: RecordedFinding, worstCredential: String?, worstScore: Int?, bestTier: Int?) {
            (self.finding, self.worstCredential, self.worstScore, self.bestTier) = (finding, worstCredential, worstScore, bestTier)
        }
    }

    /// A credential flagged exposed (by a source, or a literal secret found at import).
    public struct Exposed: Sendable {
        public var key: String, kind: String, owner: String?
        /// Its score in the latest run; nil when no model reaches it.
        public var score: Int?, band: Band?
        public init(key: String, kind: String, owner: String?, score: Int?, band: Band?) {
            (self.key, self.kind, self.owner, self.score, self.band) = (key, kind, owner, score, band)
        }
    }

    /// Why a credential has no backdoor score (declared with the scoring model).
    public typealias Unreached = UnreachedReason

    public var findings: [Finding] = []
    public var exposed: [Exposed] = []
    /// For models, agents and datasets (by `KIND:KEY`): the riskiest credential each reaches —
    /// an agent the ones it holds, a model those of the agents that use it or a model derived
    /// from it, a dataset those of the models trained on it — by the cited run.
    public var reach: [String: (credential: String, score: Int)] = [:]
    /// Credentials with no backdoor score, by the first reason that holds, and the first few keys.
    public var unreached: [Unreached: (count: Int, first: [String])] = [:]
    public init() {}

    public var unreachedCount: Int { unreached.values.map(\.count).reduce(0, +) }

    /// Open findings riskiest first: outside the envelope before merely new; with a trigger
    /// candidate (the mark of a backdoor firing) before without; then by the most sensitive tier
    /// and the highest score its agent's credentials reach; volume last.
    public var rankedFindings: [Finding] {
        findings.sorted { a, b in
            func key(_ f: Finding) -> (Int, Int, Int, Int, Int) {
                (
                    f.finding.kind == RuntimeFindings.Kind.newAfterBaseline.rawValue ? 1 : 0, f.finding.triggers.isEmpty ? 1 : 0,
                    f.bestTier ?? 9, -(f.worstScore ?? -1), -f.finding.count
                )
            }
            let (x, y) = (key(a), key(b))
            return x != y ? x < y : a.finding.id < b.finding.id
        }
    }
}

extension ReviewReport {
    /// Failed checks that stand: evidence whose result is fail and is the latest for its subject
    /// and control, worst-first by kind of subject (models and datasets are upstream of everything).
    public var failedChecks: [ControlStatus] {
        snapshot.statuses.filter { $0.status == .failed }.sorted { a, b in
            let order: [SubjectKind] = [.model, .dataset, .agent, .credential]
            let (x, y) = (order.firstIndex(of: a.subject.kind) ?? 9, order.firstIndex(of: b.subject.kind) ?? 9)
            return x != y ? x < y : (a.subject.key, a.control) < (b.subject.key, b.control)
        }
    }

    /// What is wrong, cause first: the runtime findings (a backdoor may be firing now), the failed
    /// checks (evidence of a poisoned or unsafe artifact), the exposed credentials, and the
    /// credentials no model reaches — whatever their score.
    func wrongSection() -> ReportSection {
        var s = ReportSection(id: "wrong", title: "What is wrong")
        let findings = problems.rankedFindings, failed = failedChecks
        let parts = [
            "\(Self.n(findings.count)) open runtime finding(s)", "\(Self.n(failed.count)) failed check(s)",
            "\(Self.n(problems.exposed.count)) exposed credential(s)", "\(Self.n(problems.unreachedCount)) credential(s) no model reaches",
        ]
        s.intro =
            findings.isEmpty && failed.isEmpty && problems.exposed.isEmpty
            ? "Nothing is known to be wrong: no open runtime finding, no failed check, no exposed credential. " + parts[3] + "."
            : parts.joined(separator: ", ") + ". The cause comes first: what an agent did, then what a check found, then what leaked."
        if !findings.isEmpty {
            s.tables.append(
                (
                    "Open runtime findings, riskiest first (as they stand now; `sleeper findings` lists all)",
                    .init(
                        columns: ["finding", "agent", "kind", "target", "traces", "trigger candidate", "reaches"],
                        rows: findings.prefix(20).map { f in
                            let t = f.finding.triggers.first.map { "\"\($0.ngram)\" (\($0.inAnomalous)/\($0.anomalous) vs \($0.inNormal)/\($0.normal))" } ?? ""
                            let reaches = f.worstCredential.map { "\($0) (\(f.worstScore.map(String.init) ?? "–"))" + (f.bestTier.map { ", tier \($0)" } ?? "") } ?? "no credential"
                            return ["#\(f.finding.id)", f.finding.agent, f.finding.kind, f.finding.target, Self.n(f.finding.count), t, reaches]
                        }, numeric: [4])
                ))
        }
        if !failed.isEmpty {
            s.tables.append(
                (
                    "Failed checks that stand",
                    .init(
                        columns: ["evidence", "subject", "control", "recorded", "note"],
                        rows: failed.prefix(50).map { f in
                            let record = f.evidenceID.flatMap { snapshot.evidence[$0] }
                            return [
                                f.evidenceID.map { "#\($0)" } ?? "", f.subject.description, "\(f.control) \(f.controlName)",
                                record.map { Self.day(Date(timeIntervalSince1970: TimeInterval($0.recordedAt))) } ?? "", String((record?.note ?? "").prefix(160)),
                            ]
                        })
                ))
            if failed.count > 50 { s.notes.append("… \(Self.n(failed.count - 50)) more failed checks (`sleeper gaps --status failed`).") }
        }
        if !problems.exposed.isEmpty {
            s.tables.append(
                (
                    "Exposed credentials (rotate or revoke them whatever their backdoor score)",
                    .init(
                        columns: ["credential", "kind", "owner", "backdoor score"],
                        rows: problems.exposed.prefix(50).map { e in
                            [e.key, e.kind, e.owner ?? "(none)", e.score.map { "\($0) (\(e.band?.rawValue ?? ""))" } ?? "none: no model reaches it"]
                        })
                ))
        }
        if problems.unreachedCount > 0 {
            s.tables.append(
                (
                    "Credentials no model reaches: their backdoor score is 0 for this reason, not because they are safe",
                    .init(
                        columns: ["why", "credentials", "for example"],
                        rows: UnreachedReason.allCases.compactMap { r in
                            guard let u = problems.unreached[r], u.count > 0 else { return nil }
                            return ["\(r.rawValue): \(r.explanation)", Self.n(u.count), u.first.prefix(5).joined(separator: ", ")]
                        }, numeric: [1])
                ))
            s.notes.append(
                "Grants, holders and which agent uses which model come from a hand-written file or sources that bring them; see the table of what each source brings in docs/inventory-and-sources.md.")
        }
        return s
    }

    /// The causes to address first, as agenda rows: each open finding outside an envelope, each
    /// failed check, each exposed credential (at most `limit` in all).
    func causeRows(limit: Int = 5) -> [[String]] {
        var rows: [[String]] = []
        for f in problems.rankedFindings where f.finding.kind != RuntimeFindings.Kind.newAfterBaseline.rawValue {
            rows.append([
                "resolve runtime finding #\(f.finding.id) on \(f.finding.agent) (\(f.finding.kind) \(f.finding.target))",
                "owner of \(f.finding.agent)", f.worstCredential.map { "\($0) \(f.worstScore.map(String.init) ?? "–")" } ?? "",
            ])
        }
        for c in failedChecks {
            rows.append([
                "address the failed \(c.control) on \(c.subject)\(c.evidenceID.map { " (evidence #\($0))" } ?? "") and check again",
                c.owner ?? "unowned", "",
            ])
        }
        for e in problems.exposed {
            rows.append(["rotate or revoke the exposed credential \(e.key)", e.owner ?? "unowned", e.score.map { "\(e.key) \($0)" } ?? ""])
        }
        return Array(rows.prefix(limit))
    }
}
