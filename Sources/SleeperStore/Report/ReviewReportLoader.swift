import Foundation
import PostgresNIO
import SleeperCore

/// Gathers a risk-review report: the compliance snapshot, the runs up to the as-of date with
/// their band counts, the latest run's distribution and top exposures, exact what-if lists for
/// the first few, and the changes since an earlier run.
public struct ReviewReportLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public func load(
        asOf: Date, since: Int?, top: Int = 10, whatIf: Int = 5, trendRuns: Int = 12,
        maximumRunAge: TimeInterval = RunAgeLimit.defaultHours * 3600, allowUnverified: Bool = false,
        basis: EvidenceBasis = .recorded, countingUnrecorded: Bool = true
    ) async throws -> ReviewReport {
        let weights = try ScoreRuns.bundledWeights()
        let snapshot = try await ComplianceSnapshotLoader(db).load(
            asOf: asOf, allowUnverified: allowUnverified, basis: basis,
            countingUnrecorded: countingUnrecorded)
        PhaseTiming.report("report: snapshot")
        let runs = try await summaries(upTo: asOf, limit: trendRuns)
        let edges = ReviewReport.edges(bands: weights.bands)
        var histogram = Array(repeating: 0, count: edges.count - 1)
        var topRows: [Exposure] = [], explanations: [String: ScoreExplanation] = [:], changes: [ScoreDiff.Row] = []
        var sinceRun = since
        var sinceCitedOn: Date?
        if let latest = runs.last {
            let rows = try await ScoreRuns(db).rows(of: latest.id)
            // width_bucket over the bins' lower edges: bin i is edges[i] ..< edges[i + 1].
            for try await (bucket, count) in try await db.client.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT width_bucket(score, ARRAY[\(edges.dropLast().map(String.init).joined(separator: ","))]::int[])::int, count(*)::int FROM \(rows) s GROUP BY 1
                        """), logger: db.logger
            ).decode((Int, Int).self) where bucket >= 1 && bucket <= histogram.count { histogram[bucket - 1] = count }
            PhaseTiming.report("report: histogram")
            topRows = try await ScoreRuns(db).exposures(run: latest.id, top: top, band: nil, minScore: nil, owner: nil, resource: nil)
            if whatIf > 0, !topRows.isEmpty {
                explanations = try await explain(topRows.prefix(whatIf).map(\.credential), run: latest.id)
            }
            PhaseTiming.report("report: what-if lists")
            // The last review is the run the previous report cited (every report is audited with
            // its run), not the incremental run made seconds ago; without one, the run before.
            if sinceRun == nil, let cited = try await previousReviewRun(before: latest.id) {
                sinceRun = cited.run
                sinceCitedOn = cited.on
            }
            if sinceRun == nil, runs.count >= 2 { sinceRun = runs[runs.count - 2].id }
            if let old = sinceRun, old != latest.id { changes = try await ScoreRuns(db).diff(from: old, to: latest.id) }
        }
        PhaseTiming.report("report: changes")
        var report = ReviewReport(
            snapshot: snapshot, weightsVersion: weights.version, runs: runs, histogram: histogram, top: topRows,
            explanations: explanations, sinceRun: sinceRun, changes: changes, bandThresholds: weights.bands)
        report.maximumRunAge = maximumRunAge
        report.sinceCitedOn = sinceCitedOn
        report.histogramEdges = edges
        report.problems = try await ReviewProblemsLoader(db: db).load(run: runs.last?.id)
        PhaseTiming.report("report: problems")
        return report
    }

    /// The run the latest earlier report cited, and when that report was made: the last review.
    func previousReviewRun(before run: Int) async throws -> (run: Int, on: Date)? {
        for try await (cited, at) in try await db.client.query(
            """
            SELECT (a.detail ->> 'score_run')::bigint, a.at FROM audit_log a
            WHERE a.action LIKE 'report.%' AND a.detail ->> 'score_run' ~ '^[0-9]+$' AND (a.detail ->> 'score_run')::bigint < \(run)
              AND EXISTS (SELECT 1 FROM score_runs r WHERE r.id = (a.detail ->> 'score_run')::bigint AND NOT r.what_if)
            ORDER BY a.id DESC LIMIT 1
            """, logger: db.logger
        ).decode((Int, Date).self) {
            return (cited, at)
        }
        return nil
    }

    /// Current runs as of `date` or earlier, oldest first, with how many credentials fell in
    /// each band (as stored with each run). What-if runs are no part of the history.
    func summaries(upTo date: Date, limit: Int) async throws -> [ReviewReport.RunSummary] {
        var out: [ReviewReport.RunSummary] = []
        let rows = try await db.client.query(
            """
            SELECT id, as_of, started_at, coalesce((bands ->> 'critical')::int, 0), coalesce((bands ->> 'high')::int, 0),
                   coalesce((bands ->> 'medium')::int, 0), coalesce((bands ->> 'low')::int, 0)
            FROM (SELECT * FROM score_runs WHERE NOT what_if AND as_of <= \(date) ORDER BY id DESC LIMIT \(limit)) r
            ORDER BY id
            """, logger: db.logger)
        for try await (id, asOf, started, c, h, m, l) in rows.decode((Int, Date, Date, Int, Int, Int, Int).self) {
            out.append(.init(id: id, asOf: asOf, startedAt: started, critical: c, high: h, medium: m, low: l))
        }
        return out
    }

    /// Exact what-if lists, computed as of the run's own date so they agree with its scores.
    func explain(_ keys: [String], run: Int) async throws -> [String: ScoreExplanation] {
        guard let cited = try await ScoreRuns(db).citation(of: run) else { throw StoreError.invalidInput("no scoring run \(run)") }
        return try await Explainer(db).explain(credentials: keys, asOf: cited.asOf)
    }
}
