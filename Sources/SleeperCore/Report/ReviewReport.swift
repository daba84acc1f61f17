import Foundation

/// What a risk review needs on one page: the headline numbers, the worst exposures with what
/// would lower them, what changed since the last review, the gaps, the evidence about to lapse
/// and the subjects nobody owns. Built from a compliance snapshot and the stored runs; rendered
/// as Markdown or as one self-contained HTML file.
public struct ReviewReport: Sendable {
    public struct RunSummary: Sendable, Equatable {
        public var id: Int
        /// The time the run's scores describe, and when it was made.
        public var asOf: Date
        public var startedAt: Date
        public var critical: Int, high: Int, medium: Int, low: Int
        public init(id: Int, asOf: Date, startedAt: Date, critical: Int, high: Int, medium: Int, low: Int) {
            self.id = id; self.asOf = asOf; self.startedAt = startedAt
            self.critical = critical; self.high = high; self.medium = medium; self.low = low
        }
        public var total: Int { critical + high + medium + low }
    }

    public var snapshot: ComplianceSnapshot
    public var weightsVersion: String
    /// The latest run at or before the as-of date, and the earlier ones, oldest first.
    public var runs: [RunSummary]
    /// Credentials per score decile (0–9, 10–19, … 90–100) in the latest run.
    public var histogram: [Int]
    /// The highest scores of the latest run, whatever their band.
    public var top: [Exposure]
    /// What-if lists for the first few of `top`, by credential key.
    public var explanations: [String: ScoreExplanation]
    /// The run compared against, and what changed since.
    public var sinceRun: Int?
    public var changes: [ScoreDiff.Row]
    public var bandThresholds: (critical: Double, high: Double, medium: Double)
    /// How old the latest run may be at the report's as-of before the report warns.
    public var maximumRunAge: TimeInterval = RunAgeLimit.defaultHours * 3600

    public init(snapshot: ComplianceSnapshot, weightsVersion: String, runs: [RunSummary], histogram: [Int], top: [Exposure],
                explanations: [String: ScoreExplanation], sinceRun: Int?, changes: [ScoreDiff.Row],
                bandThresholds: (critical: Double, high: Double, medium: Double)) {
        self.snapshot = snapshot
        self.weightsVersion = weightsVersion
        self.runs = runs
        self.histogram = histogram
        self.top = top
        self.explanations = explanations
        self.sinceRun = sinceRun
        self.changes = changes
        self.bandThresholds = bandThresholds
        frameworkCoverage = Self.coverage(of: snapshot)
    }

    /// Assessing every framework reads every status: done once, here, for the sections and charts.
    public let frameworkCoverage: [FrameworkCoverage]

    public var latest: RunSummary? { runs.last }

    /// The latest run, cited: which run, as of when, made when, how old at the report's as-of.
    public var runCitation: String {
        guard let r = latest else { return "no scoring run yet" }
        return "scoring run \(r.id) as of \(Timestamps.format(r.asOf)), made \(Timestamps.format(r.startedAt)), "
            + "\(RunCitation.describe(age: snapshot.asOf.timeIntervalSince(r.asOf))) old"
    }

    /// A warning when the latest run is older than `maximumRunAge` at the report's as-of.
    public var staleRunWarning: String? {
        guard let r = latest else { return nil }
        return RunCitation(id: r.id, asOf: r.asOf, madeAt: r.startedAt, whatIf: false, trigger: "")
            .staleness(now: snapshot.asOf, maximumAge: maximumRunAge)
    }

    public struct FrameworkCoverage: Sendable {
        public var framework: Framework
        public var itemsSatisfied: Int, itemsAssessed: Int
        public var subjectsCovered: Int, subjectsApplicable: Int
        public var percent: Double { subjectsApplicable == 0 ? 0 : 100 * Double(subjectsCovered) / Double(subjectsApplicable) }
        public var gaps: [ComplianceSnapshot.ItemAssessment]
    }

    /// Per framework: items satisfied, and applicable subject–item pairs covered.
    public func coverage() -> [FrameworkCoverage] { frameworkCoverage }

    static func coverage(of snapshot: ComplianceSnapshot) -> [FrameworkCoverage] {
        snapshot.catalog.frameworks.map { f in
            let a = snapshot.assessments(framework: f)
            return FrameworkCoverage(framework: f, itemsSatisfied: a.filter(\.satisfied).count, itemsAssessed: a.count,
                                     subjectsCovered: a.map(\.covered).reduce(0, +), subjectsApplicable: a.map(\.applicable).reduce(0, +),
                                     gaps: a.filter { !$0.satisfied })
        }
    }

    /// Valid evidence that expires within `days` of the as-of date, soonest first.
    public func expiring(within days: Int = 30) -> [ControlStatus] {
        let limit = snapshot.asOf.addingTimeInterval(TimeInterval(days) * 86400)
        return snapshot.statuses.filter { s in s.isValid && s.expiresAt.map { $0 > snapshot.asOf && $0 <= limit } == true }
            .sorted { ($0.expiresAt!, $0.subject.description) < ($1.expiresAt!, $1.subject.description) }
    }

    /// Subjects with no owner: nobody to ask for evidence or to rotate a credential.
    public func unowned() -> [Subject] {
        var seen = Set<Subject>(), out: [Subject] = []
        for s in snapshot.statuses where s.owner == nil && !seen.contains(s.subject) { seen.insert(s.subject); out.append(s.subject) }
        return out.sorted { ($0.kind.rawValue, $0.key) < ($1.kind.rawValue, $1.key) }
    }

    func band(forScore s: Int) -> String {
        let d = Double(s)
        if d >= bandThresholds.critical { return "critical" }
        if d >= bandThresholds.high { return "high" }
        if d >= bandThresholds.medium { return "medium" }
        return "low"
    }
}
