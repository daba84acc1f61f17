import Foundation
import PostgresNIO
import SleeperCore

/// Gathers a risk-review report: the compliance snapshot, the runs up to the as-of date with
/// their band counts, the latest run's distribution and top exposures, exact what-if lists for
/// the first few, and the changes since an earlier run.
public struct ReviewReportLoader: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public func load(asOf: Date, since: Int?, top: Int = 10, whatIf: Int = 5, trendRuns: Int = 12) async throws -> ReviewReport {
        let weights = try ScoreRuns.bundledWeights()
        let snapshot = try await ComplianceSnapshotLoader(db).load(asOf: asOf)
        let runs = try await summaries(upTo: asOf, limit: trendRuns)
        var histogram = Array(repeating: 0, count: 10)
        var topRows: [Exposure] = [], explanations: [String: ScoreExplanation] = [:], changes: [ScoreDiff.Row] = []
        var sinceRun = since
        if let latest = runs.last {
            let rows = try await ScoreRuns(db).rows(of: latest.id)
            for try await (bucket, count) in try await db.client.query(PostgresQuery(unsafeSQL: """
                SELECT least(score / 10, 9)::int, count(*)::int FROM \(rows) s GROUP BY 1
                """), logger: db.logger).decode((Int, Int).self) { histogram[bucket] = count }
            topRows = try await ScoreRuns(db).exposures(run: latest.id, top: top, band: nil, minScore: nil, owner: nil, resource: nil)
            if whatIf > 0, !topRows.isEmpty {
                explanations = try await explain(topRows.prefix(whatIf).map(\.credential), run: latest.id)
            }
            if sinceRun == nil, runs.count >= 2 { sinceRun = runs[runs.count - 2].id }
            if let old = sinceRun, old != latest.id { changes = try await ScoreRuns(db).diff(from: old, to: latest.id) }
        }
        return ReviewReport(snapshot: snapshot, weightsVersion: weights.version, runs: runs, histogram: histogram, top: topRows,
                            explanations: explanations, sinceRun: sinceRun, changes: changes, bandThresholds: weights.bands)
    }

    /// Runs started by `date`, oldest first, with how many credentials fell in each band (as stored with each run).
    func summaries(upTo date: Date, limit: Int) async throws -> [ReviewReport.RunSummary] {
        var out: [ReviewReport.RunSummary] = []
        let rows = try await db.client.query("""
            SELECT id, started_at, coalesce((bands ->> 'critical')::int, 0), coalesce((bands ->> 'high')::int, 0),
                   coalesce((bands ->> 'medium')::int, 0), coalesce((bands ->> 'low')::int, 0)
            FROM (SELECT * FROM score_runs WHERE started_at <= \(date) ORDER BY id DESC LIMIT \(limit)) r
            ORDER BY id
            """, logger: db.logger)
        for try await (id, started, c, h, m, l) in rows.decode((Int, Date, Int, Int, Int, Int).self) {
            out.append(.init(id: id, startedAt: started, critical: c, high: h, medium: m, low: l))
        }
        return out
    }

    /// Exact what-if lists, computed as of the run's own date so they agree with its scores.
    func explain(_ keys: [String], run: Int) async throws -> [String: ScoreExplanation] {
        var runAsOf = Date()
        for try await d in try await db.client.query("SELECT as_of FROM score_runs WHERE id = \(run)", logger: db.logger).decode(Date.self) { runAsOf = d }
        return try await Explainer(db).explain(credentials: keys, asOf: runAsOf)
    }
}
