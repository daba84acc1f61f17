import Foundation
import PostgresNIO
import SleeperCore

/// Runs the scoring model over the whole estate and stores the run and every credential's score.
public struct ScoreRuns: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public static func bundledWeights() throws -> ScoringWeights {
        guard let data = BundledFiles.all["Controls/scoring.yaml"] else { throw StoreError.invalidInput("Controls/scoring.yaml is not in this build") }
        return try ScoringWeights.read(data).get()
    }

    public struct Run: Sendable {
        public var id: Int
        public var asOf: Date
        public var weightsVersion: String
        public var credentials: Int
        public var durationMs: Int
        public var bands: [String: Int]
    }

    public func run(asOf: Date, weights: ScoringWeights, actor: String = AuditLog.commandLineActor) async throws -> Run {
        let clock = ContinuousClock(), start = clock.now
        let (input, ids) = try await ScoringInputLoader(db).load(asOf: asOf, weights: weights)
        let result = try ScoringEngine(weights: weights).score(input)
        let elapsed = clock.now - start
        let ms = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let runID = try await db.transaction { tx -> Int in
            var runID = 0
            for try await id in try await tx.query("""
                INSERT INTO score_runs (as_of, weights_version, models, agents, credentials, duration_ms)
                VALUES (\(asOf), \(weights.version), \(input.models.count), \(input.agents.count), \(input.credentials.count), \(ms))
                RETURNING id
                """, logger: db.logger).decode(Int.self) { runID = id }
            let partition = "credential_scores_r\(runID)"
            try await tx.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(partition) (LIKE credential_scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"), logger: db.logger)
            let rows = Array(zip(ids, zip(input.credentials, result.credentials)))
            try await tx.copyRows(rows, into: partition,
                                  columns: ["run_id", "credential_id", "credential_key", "score", "band", "p", "impact", "hygiene",
                                            "impact_count", "exposure_count", "explanation"], logger: db.logger) { w, row in
                let (id, (credential, score)) = row
                w.integer(runID); w.integer(id); w.text(credential.key); w.integer(score.score); w.text(score.band)
                w.double(score.p); w.double(score.impact); w.double(score.hygiene)
                w.integer(score.impactCount); w.integer(score.exposureCount)
                w.text(ScoreExplanation.compact(score, input: input, result: result))
            }
            // Indexes built in bulk, and a CHECK that lets ATTACH skip scanning the rows again.
            for sql in [
                "ALTER TABLE \(partition) ADD CONSTRAINT \(partition)_run CHECK (run_id = \(runID))",
                "CREATE UNIQUE INDEX ON \(partition) (run_id, credential_id)",
                "CREATE INDEX ON \(partition) (run_id, score DESC, credential_key)",
                "ALTER TABLE credential_scores ATTACH PARTITION \(partition) FOR VALUES IN (\(runID))",
            ] {
                try await tx.query(PostgresQuery(unsafeSQL: sql), logger: db.logger)
            }
            try await AuditLog.record(actor: actor, action: "score.run", target: "run \(runID)",
                                      detail: ["as_of": Timestamps.format(asOf), "credentials": String(input.credentials.count), "weights": weights.version],
                                      on: tx, logger: db.logger)
            return runID
        }
        var bands: [String: Int] = [:]
        for c in result.credentials { bands[c.band, default: 0] += 1 }
        return Run(id: runID, asOf: asOf, weightsVersion: weights.version, credentials: input.credentials.count, durationMs: ms, bands: bands)
    }

    public typealias Exposure = SleeperCore.Exposure

    public func latestRunID() async throws -> Int? {
        for try await id in try await db.client.query("SELECT max(id) FROM score_runs", logger: db.logger).decode(Int?.self) { return id }
        return nil
    }

    /// The credentials of a run by score, with filters like the CLI's.
    public func exposures(run: Int, top: Int?, band: String?, minScore: Int?, owner: String?, resource: String?, offset: Int = 0) async throws -> [Exposure] {
        var out: [Exposure] = []
        let sql: PostgresQuery = """
            SELECT s.credential_key, s.score, s.band, s.p, s.impact, s.hygiene, c.owner,
                   array_remove(ARRAY[s.explanation ->> 'model', s.explanation ->> 'agent', s.credential_key, s.explanation ->> 'resource'], NULL),
                   coalesce(s.explanation ->> 'main', '')
            FROM credential_scores s LEFT JOIN credentials c ON c.id = s.credential_id
            WHERE s.run_id = \(run)
              AND (\(band)::text IS NULL OR s.band = \(band))
              AND (\(minScore)::int IS NULL OR s.score >= \(minScore))
              AND (\(owner)::text IS NULL OR c.owner = \(owner))
              AND (\(resource)::text IS NULL OR EXISTS (SELECT 1 FROM grants g JOIN resources r ON r.id = g.resource_id
                                                        WHERE g.credential_id = s.credential_id AND r.key = \(resource)))
            ORDER BY s.score DESC, s.credential_key
            LIMIT \(top ?? 1_000_000_000) OFFSET \(offset)
            """
        for try await (key, score, band, p, impact, hygiene, owner, path, main) in try await db.client.query(sql, logger: db.logger)
            .decode((String, Int16, String, Double, Double, Double, String?, [String], String).self) {
            out.append(Exposure(credential: key, score: Int(score), band: band, p: p, impact: impact, hygiene: hygiene, owner: owner, path: path, mainFactor: main))
        }
        return out
    }

    /// A run named on the command line: its id, or a date meaning the latest run started by then.
    public func resolve(_ reference: String) async throws -> Int {
        if let id = Int(reference) {
            var exists = false
            for try await _ in try await db.client.query("SELECT 1 FROM score_runs WHERE id = \(id)", logger: db.logger) { exists = true }
            guard exists else { throw StoreError.invalidInput("no scoring run \(id)") }
            return id
        }
        guard let date = Timestamps.parse(reference) else { throw StoreError.invalidInput("'\(reference)' is neither a run id nor a date") }
        guard let id = try await runID(atOrBefore: date) else { throw StoreError.invalidInput("no scoring run started by \(reference)") }
        return id
    }

    /// The latest run started at or before `date`.
    public func runID(atOrBefore date: Date) async throws -> Int? {
        for try await id in try await db.client.query("SELECT max(id) FROM score_runs WHERE started_at <= \(date)", logger: db.logger).decode(Int?.self) { return id }
        return nil
    }

    /// Every credential whose score differs between two runs, worst change first.
    public func diff(from old: Int, to new: Int) async throws -> [ScoreDiff.Row] {
        func side(_ score: Int16?, _ p: Double?, _ h: Double?, _ model: String?, _ agent: String?, _ main: String?, _ terms: [String]?) -> ScoreDiff.Side? {
            guard let score, let p, let h else { return nil }
            return ScoreDiff.Side(score: Int(score), p: p, hygiene: h, model: model, agent: agent, main: main ?? "", hygieneTerms: terms ?? [])
        }
        var rows: [ScoreDiff.Row] = []
        let sql: PostgresQuery = """
            SELECT coalesce(n.credential_key, o.credential_key),
                   o.score, o.p, o.hygiene, o.explanation ->> 'model', o.explanation ->> 'agent', o.explanation ->> 'main',
                   ARRAY(SELECT json_array_elements_text(o.explanation -> 'hygiene')),
                   n.score, n.p, n.hygiene, n.explanation ->> 'model', n.explanation ->> 'agent', n.explanation ->> 'main',
                   ARRAY(SELECT json_array_elements_text(n.explanation -> 'hygiene'))
            FROM (SELECT * FROM credential_scores WHERE run_id = \(old)) o
            FULL JOIN (SELECT * FROM credential_scores WHERE run_id = \(new)) n ON n.credential_id = o.credential_id
            WHERE o.score IS DISTINCT FROM n.score
            """
        for try await row in try await db.client.query(sql, logger: db.logger) {
            let (key, os, op, oh, om, oa, omain, oterms, ns, np, nh, nm, na, nmain, nterms) =
                try row.decode((String, Int16?, Double?, Double?, String?, String?, String?, [String]?, Int16?, Double?, Double?, String?, String?, String?, [String]?).self)
            let before = side(os, op, oh, om, oa, omain, oterms), after = side(ns, np, nh, nm, na, nmain, nterms)
            rows.append(ScoreDiff.Row(credential: key, before: before?.score, after: after?.score, reasons: ScoreDiff.reasons(before: before, after: after)))
        }
        return rows.sorted { ($1.change, $0.credential) < ($0.change, $1.credential) }
    }
}
