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
        public subscript(band band: Band) -> Int {
            switch band {
            case .critical: critical
            case .high: high
            case .medium: medium
            case .low: low
            }
        }
    }

    public var snapshot: ComplianceSnapshot
    public var weightsVersion: String
    /// The latest run at or before the as-of date, and the earlier ones, oldest first.
    public var runs: [RunSummary]
    /// Credentials per score bin in the latest run. Bins are ten points wide and also split at
    /// the band edges, so that no bin holds two bands: bin i is `histogramEdges[i] ..< histogramEdges[i + 1]`.
    public var histogram: [Int]
    public var histogramEdges: [Int] = ReviewReport.tenPointEdges
    /// The highest scores of the latest run, whatever their band.
    public var top: [Exposure]
    /// What-if lists for the first few of `top`, by credential key.
    public var explanations: [String: ScoreExplanation]
    /// The run compared against, and what changed since.
    public var sinceRun: Int?
    /// When the compared run was cited by a review report, that report's date.
    public var sinceCitedOn: Date?
    public var changes: [ScoreDiff.Row]
    public var bandThresholds: (critical: Double, high: Double, medium: Double)
    /// What is known to be wrong besides failed checks (which the snapshot holds).
    public var problems = ReviewProblems()
    /// How old the latest run may be at the report's as-of before the report warns.
    public var maximumRunAge: TimeInterval = RunAgeLimit.defaultHours * 3600

    public init(
        snapshot: ComplianceSnapshot, weightsVersion: String, runs: [RunSummary], histogram: [Int], top: [Exposure],
        explanations: [String: ScoreExplanation], sinceRun: Int?, changes: [ScoreDiff.Row],
        bandThresholds: (critical: Double, high: Double, medium: Double)
    ) {
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

    public static let tenPointEdges = Array(stride(from: 0, through: 90, by: 10)) + [101]

    /// Ten-point bins split at the band edges (0, 10, 15, 20, 30, 35, …, 60, …, 90, 101).
    public static func edges(bands: (critical: Double, high: Double, medium: Double)) -> [Int] {
        let bandEdges = [bands.medium, bands.high, bands.critical].map { Int($0.rounded(.up)) }.filter { $0 > 0 && $0 <= 100 }
        return Array(Set(Array(stride(from: 0, through: 90, by: 10)) + bandEdges + [101])).sorted()
    }

    /// Assessing every framework reads every status: done once, here, for the sections and charts.
    public let frameworkCoverage: [FrameworkCoverage]

    public var latest: RunSummary? { runs.last }

    /// The trend's points: the last run of each day (UTC). Runs made minutes apart (an import's
    /// incremental run, then a full one) are one day's state, not six points with one label.
    public var dailyRuns: [RunSummary] {
        var out: [RunSummary] = []
        for r in runs {
            if let last = out.last, Self.day(last.asOf) == Self.day(r.asOf) { out[out.count - 1] = r } else { out.append(r) }
        }
        return out
    }

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
            return FrameworkCoverage(
                framework: f, itemsSatisfied: a.filter(\.satisfied).count, itemsAssessed: a.count,
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

    /// Subjects with no owner, riskiest first: credentials by their score where it is critical or
    /// high, then the rest by kind and key. Nobody is asked for their evidence or their rotation.
    public func unowned() -> [Subject] {
        var seen = Set<Subject>(), out: [Subject] = []
        if let ownerless = snapshot.ownerless {
            out = ownerless.first
        } else {
            for s in snapshot.statuses where s.owner == nil && !seen.contains(s.subject) { seen.insert(s.subject); out.append(s.subject) }
        }
        var score = Dictionary(snapshot.exposures.map { ("credential:" + $0.credential, $0.raw) }, uniquingKeysWith: max)
        for (subject, r) in problems.reach where score[subject] == nil { score[subject] = Double(r.score) / 100 }
        return out.sorted { a, b in
            let (x, y) = (score[a.description] ?? -1, score[b.description] ?? -1)
            return x != y ? x > y : (a.kind.rawValue, a.key) < (b.kind.rawValue, b.key)
        }
    }

    /// How many subjects have no owner (more than `unowned()` lists when the snapshot counts some).
    public var unownedCount: Int { snapshot.ownerless?.count ?? unowned().count }

    /// Evidence that stopped counting, or counts less each day: expired (the latest 30 days) and
    /// in its grace period, most recent first.
    public func lapsed(within days: Int = 30) -> [ControlStatus] {
        let since = snapshot.asOf.addingTimeInterval(-TimeInterval(days) * 86400)
        return snapshot.statuses.filter { s in
            s.status.isExpired && s.expiresAt.map { $0 > since } == true
        }.sorted { ($0.expiresAt ?? .distantPast, $1.subject.description) > ($1.expiresAt ?? .distantPast, $0.subject.description) }
    }

    /// The open actions to take first: not done and not accepted, worst band first, then the
    /// riskiest credential, then the earliest due.
    public func nextActions() -> [RemediationAction] {
        snapshot.actions.filter { $0.status == .open || $0.status == .inProgress }
            .sorted { a, b in
                if a.band != b.band { return a.band > b.band }
                if (a.score ?? -1) != (b.score ?? -1) { return (a.score ?? -1) > (b.score ?? -1) }
                return (a.due, a.id) < (b.due, b.id)
            }
    }

    /// A count with thousands separators, the same in every locale: 12,345.
    public static func n(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (value < 0 ? "−" : "") + out
    }

    func band(forScore s: Int) -> Band { Band.of(s, thresholds: bandThresholds) }
}
