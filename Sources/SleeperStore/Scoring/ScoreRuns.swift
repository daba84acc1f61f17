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
        public var bands: [Band: Int]
        /// A run as of another time than now: stored, citable by id, never the current truth.
        public var whatIf: Bool
    }

    /// A full run. A current run (`whatIf` false) holds the run lock from its first read to its
    /// commit; a what-if run needs no lock, since nothing builds on it.
    public func run(
        asOf: Date, weights: ScoringWeights, actor: String = AuditLog.commandLineActor, trigger: String = "full",
        whatIf: Bool = false
    ) async throws -> Run {
        if whatIf { return try await runHoldingLock(asOf: asOf, weights: weights, actor: actor, trigger: trigger, whatIf: true) }
        return try await RunLock.holding(db) {
            // A full run covers every change committed before it reads the store: what they owe is settled with it.
            let owed = try await RescoreDebts.open(db).map(\.id)
            return try await runHoldingLock(asOf: asOf, weights: weights, actor: actor, trigger: trigger, whatIf: false, settling: owed)
        }
    }

    /// A full run, for a caller that holds the run lock (or makes a what-if run).
    /// `settling`: the debts (`rescores_owed`) the run settles, marked in its own transaction.
    func runHoldingLock(asOf: Date, weights: ScoringWeights, actor: String, trigger: String, whatIf: Bool, settling: [Int64] = []) async throws -> Run {
        let clock = ContinuousClock(), start = clock.now
        let (input, ids) = try await ScoringInputLoader(db).load(asOf: asOf, weights: weights)
        let loaded = clock.now
        let result = try ScoringEngine(weights: weights).score(input)
        PhaseTiming.report("load \(loaded - start), compute \(clock.now - loaded)")
        var bands: [Band: Int] = [:]
        for c in result.credentials { bands[c.band, default: 0] += 1 }
        let runID = try await write(
            ids: ids, input: input, result: result, asOf: asOf, weights: weights,
            base: nil, carried: nil, bands: bands, trigger: trigger, whatIf: whatIf, started: start, actor: actor,
            settling: settling)
        // Freeing a million credentials' arrays takes a fifth of a second; let another thread do it.
        let done = (input, result)
        Task.detached(priority: .background) { withExtendedLifetime(done) {} }
        return Run(
            id: runID, asOf: asOf, weightsVersion: weights.version, credentials: input.credentials.count,
            durationMs: Self.ms(clock.now - start), bands: bands, whatIf: whatIf)
    }

    static func ms(_ d: Duration) -> Int { Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }

    /// Stores a run with the models it computed and the audit entry, in one transaction: a full
    /// run's rows COPYed into a new partition, indexed in bulk and attached; an incremental run's
    /// into `incremental_scores`, with the rows of the incremental run it follows (`carried`) that
    /// it does not redo.
    func write(
        ids: ScoringInputLoader.DatabaseIDs, input: ScoringInput, result: ScoringEngine.Result, asOf: Date, weights: ScoringWeights,
        base: Int?, carried: Int?, bands: [Band: Int], trigger: String, whatIf: Bool = false,
        started: ContinuousClock.Instant, actor: String, settling: [Int64] = []
    ) async throws -> Int {
        let bandsJSON = "{" + bands.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\"\($0.key.rawValue)\": \($0.value)" }.joined(separator: ", ") + "}"
        // Rows go in the input's order, by database id: rescoring looks rows of the base run up by
        // id, and rows laid out in id order make those lookups cheap.
        let count = ids.credentials.count
        let computedModels = input.models.indices.filter { input.models[$0].carriedLStar == nil }
        let engine = ScoringEngine(weights: weights)
        return try await db.transaction { tx -> Int in
            if base != nil {
                // An incremental run is derived from what is already committed (the evidence or
                // import that caused it); should a crash lose it, the next run recomputes it. Not
                // waiting for its WAL to reach the disk saves a flush on every evidence record.
                try await tx.query("SET LOCAL synchronous_commit = off", logger: db.logger)
            }
            var runID = 0
            for try await id in try await tx.query(
                """
                INSERT INTO score_runs (as_of, weights_version, models, agents, credentials, duration_ms, base_run_id, trigger, rescored, bands, what_if, ledger_head)
                VALUES (\(asOf), \(weights.version), \(input.models.count), \(input.agents.count), \(bands.values.reduce(0, +)), 0,
                        \(base), \(trigger), \(base == nil ? nil : count), \(bandsJSON)::jsonb, \(whatIf), (SELECT coalesce(max(id), 0) FROM evidence))
                RETURNING id
                """, logger: db.logger
            ).decode(Int.self) { runID = id }
            let run = runID
            // A full run's rows go into a partition of their own, indexed in bulk; an incremental
            // run's few thousand into `incremental_scores`, whose indexes take them as they come.
            let table = base == nil ? "credential_scores_r\(runID)" : "incremental_scores"
            if base == nil {
                // The CHECK lets ATTACH skip scanning the rows; declared here, COPY checks it row by
                // row instead of a second pass over the table.
                try await tx.query(
                    PostgresQuery(
                        unsafeSQL: """
                            CREATE TABLE \(table) (LIKE credential_scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED,
                                                   CONSTRAINT \(table)_run CHECK (run_id = \(runID)))
                            """), logger: db.logger)
            }
            try await tx.copyRowsInParallel(
                count: count, into: table,
                columns: [
                    "run_id", "credential_id", "credential_key", "score", "band", "p", "impact", "hygiene",
                    "impact_count", "exposure_count", "top_model_id", "top_agent", "top_resource", "hygiene_terms", "held_by",
                ],
                logger: db.logger
            ) { w, range in
                let (credentials, scores, agents, resources) = (input.credentials, result.credentials, input.agents, input.resources)
                let (credentialIDs, modelIDs) = (ids.credentials, ids.models)
                for i in range {
                    let s = scores[i]
                    w.integer(run); w.integer(credentialIDs[i]); w.text(credentials[i].key); w.integer(s.score); w.text(s.band.rawValue)
                    w.double(s.p); w.double(s.impact); w.double(s.hygiene)
                    w.integer(s.impactCount); w.integer(s.exposureCount)
                    w.integer(s.topModel.map { modelIDs[$0] })
                    // The chain of agents, by key; keys hold no spaces, so " → " separates them.
                    w.text(s.topChain.isEmpty ? nil : s.topChain.map { agents[$0].key }.joined(separator: " → "))
                    w.text(s.topResource.map { resources[$0].key })
                    w.integer(ScoringEngine.hygieneMask(s.hygieneTerms))
                    w.text(engine.heldBy(credentials[i], input: input, agentA: result.agentA))
                    w.endRowInBuffer()
                }
            }
            PhaseTiming.report("copy \(ContinuousClock.now - started)")
            try await tx.copyRows(computedModels, into: "score_run_models", columns: ["run_id", "model_id", "model_key", "l_star", "main"], logger: db.logger) { w, m in
                w.integer(run); w.integer(ids.models[m]); w.text(input.models[m].key); w.double(result.models[m].lStar)
                w.text(ScoreExplanation.mainFactor(model: m, input: input, result: result, weights: weights))
            }
            if let carried {
                // The rescored credentials are named, not looked up among the new rows: the planner
                // cannot know how many rows a new run has, and took it for one.
                var binds = PostgresBindings()
                binds.append(ids.credentials)
                try await tx.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO incremental_scores (run_id, credential_id, credential_key, score, band, p, impact, hygiene, impact_count,
                                                            exposure_count, explanation, top_model_id, top_agent, top_resource, hygiene_terms, held_by)
                            SELECT \(runID), c.credential_id, c.credential_key, c.score, c.band, c.p, c.impact, c.hygiene,
                                   c.impact_count, c.exposure_count, c.explanation, c.top_model_id, c.top_agent, c.top_resource, c.hygiene_terms, c.held_by
                            FROM incremental_scores c WHERE c.run_id = \(carried) AND c.credential_id <> ALL($1::int8[])
                            """, binds: binds), logger: db.logger)
                try await tx.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO score_run_models SELECT \(runID), c.model_id, c.model_key, c.l_star, c.main
                            FROM score_run_models c WHERE c.run_id = \(carried)
                              AND NOT EXISTS (SELECT 1 FROM score_run_models n WHERE n.run_id = \(runID) AND n.model_id = c.model_id)
                            """), logger: db.logger)
            }
            if base == nil {
                // Indexes built in bulk, after the rows are in, with room to sort a million keys in memory.
                for sql in [
                    "SET LOCAL maintenance_work_mem = '256MB'",
                    "CREATE UNIQUE INDEX ON \(table) (run_id, credential_id)",
                    "CREATE INDEX ON \(table) (run_id, raw DESC, credential_id)",
                    "ALTER TABLE credential_scores ATTACH PARTITION \(table) FOR VALUES IN (\(runID))",
                ] {
                    try await tx.query(PostgresQuery(unsafeSQL: sql), logger: db.logger)
                }
                PhaseTiming.report("indexed and attached \(ContinuousClock.now - started)")
            }
            try await RescoreDebts.settle(settling, run: runID, on: tx, logger: db.logger)
            let ms = Self.ms(ContinuousClock.now - started)
            try await tx.query("UPDATE score_runs SET duration_ms = \(ms) WHERE id = \(runID)", logger: db.logger)
            try await AuditLog.record(
                actor: actor, action: "score.run", target: "run \(runID)",
                detail: [
                    "as_of": Timestamps.format(asOf), "credentials": String(count), "weights": weights.version, "trigger": trigger,
                    "what_if": String(whatIf),
                ],
                on: tx, logger: db.logger)
            return runID
        }
    }

    /// The full run an incremental run builds on; nil for a full run.
    func base(of run: Int) async throws -> Int? {
        for try await b in try await db.client.query("SELECT base_run_id FROM score_runs WHERE id = \(run)", logger: db.logger).decode(Int?.self) { return b }
        return nil
    }

    /// SQL for the rows of a run: a full run's own rows, or an incremental run's rows over those
    /// of its base run that it does not replace.
    public func rows(of run: Int) async throws -> String {
        let base = try await base(of: run)
        return Self.rowsSQL(run: run, base: base)
    }

    /// SQL for the models of a run, each with its L* and main factor, overlaid the same way.
    public func models(of run: Int) async throws -> String {
        let base = try await base(of: run)
        return Self.modelsSQL(run: run, base: base)
    }

    /// A full run's rows are in `credential_scores`, an incremental run's own in `incremental_scores`.
    static func rowsSQL(run: Int, base: Int?) -> String {
        overlay(own: base == nil ? "credential_scores" : "incremental_scores", base: "credential_scores", "credential_id", run: run, baseRun: base)
    }

    static func modelsSQL(run: Int, base: Int?) -> String { overlay(own: "score_run_models", base: "score_run_models", "model_id", run: run, baseRun: base) }

    private static func overlay(own: String, base: String, _ id: String, run: Int, baseRun: Int?) -> String {
        guard let baseRun else { return "(SELECT * FROM \(own) WHERE run_id = \(run))" }
        return """
            (SELECT * FROM \(own) WHERE run_id = \(run)
             UNION ALL
             SELECT * FROM \(base) b WHERE b.run_id = \(baseRun)
               AND NOT EXISTS (SELECT 1 FROM \(own) d WHERE d.run_id = \(run) AND d.\(id) = b.\(id)))
            """
    }

    /// A score row `s`'s compact explanation as SQL: top model, agent and resource, main factor
    /// and hygiene terms (text[]), with `m` the row's top model among the run's models. Rows of
    /// runs stored before migration 0007 carry them as JSON instead.
    static func explanationSQL(_ s: String, model m: String) -> (model: String, agent: String, resource: String, main: String, hygiene: String) {
        let names = "'{" + ScoringEngine.hygieneTermNames.joined(separator: ",") + "}'::text[]"
        return (
            model: "coalesce(\(m).model_key, \(s).explanation ->> 'model')",
            agent: "coalesce(\(s).top_agent, \(s).explanation ->> 'agent')",
            resource: "coalesce(\(s).top_resource, \(s).explanation ->> 'resource')",
            main: "coalesce(\(s).held_by, \(m).main, \(s).explanation ->> 'main', CASE WHEN \(s).p = 0 THEN 'no model reaches it' ELSE '' END)",
            hygiene: """
            CASE WHEN \(s).explanation IS NOT NULL THEN ARRAY(SELECT json_array_elements_text(\(s).explanation -> 'hygiene'))
                 ELSE ARRAY(SELECT h.n FROM unnest(\(names)) WITH ORDINALITY h(n, i)
                            WHERE \(s).hygiene_terms & (1 << (h.i::int - 1)) <> 0 ORDER BY h.i) END
            """
        )
    }

    public typealias Exposure = SleeperCore.Exposure

    /// The latest current run: what-if runs never count.
    public func latestRunID() async throws -> Int? {
        for try await id in try await db.client.query("SELECT max(id) FROM score_runs WHERE NOT what_if", logger: db.logger).decode(Int?.self) { return id }
        return nil
    }

    /// The latest current run, cited.
    public func latest() async throws -> RunCitation? {
        try await cite("SELECT id, as_of, started_at, what_if, trigger FROM score_runs WHERE NOT what_if ORDER BY id DESC LIMIT 1")
    }

    /// Which run, as of when, made when, and whether it is a what-if.
    public func citation(of run: Int) async throws -> RunCitation? {
        try await cite("SELECT id, as_of, started_at, what_if, trigger FROM score_runs WHERE id = \(run)")
    }

    private func cite(_ sql: String) async throws -> RunCitation? {
        for try await (id, asOf, madeAt, whatIf, trigger) in try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: db.logger)
            .decode((Int, Date, Date, Bool, String).self)
        {
            return RunCitation(id: id, asOf: asOf, madeAt: madeAt, whatIf: whatIf, trigger: trigger)
        }
        return nil
    }

    /// The credentials of a run by score and, above the cap, by the uncapped product (`raw`, which
    /// orders by score too), with filters like the CLI's.
    public func exposures(run: Int, top: Int?, band: Band?, minScore: Int?, owner: String?, resource: String?, offset: Int = 0) async throws -> [Exposure] {
        var out: [Exposure] = []
        let limit = top ?? 1_000_000_000
        let filters = """
            ($1::text IS NULL OR s.band = $1)
              AND ($2::int IS NULL OR s.score >= $2)
              AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM credentials o WHERE o.id = s.credential_id AND o.owner = $3))
              AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM grants g JOIN resources r ON r.id = g.resource_id
                                               WHERE g.credential_id = s.credential_id AND r.key = $4))
            """
        let base = try await base(of: run)
        let window = min(limit + offset, 1_000_000_000)
        let source: String
        if let base {
            // The top of an incremental run: the top of its own rows, and the top of the base run's
            // rows it does not replace, each read down its score index (an anti join that stops
            // after `window` rows, not a sort of a million).
            source = """
                ((SELECT * FROM incremental_scores s WHERE s.run_id = \(run) AND \(filters)
                  ORDER BY s.raw DESC, s.credential_id LIMIT \(window))
                 UNION ALL
                 (SELECT * FROM credential_scores s WHERE s.run_id = \(base) AND \(filters)
                    AND NOT EXISTS (SELECT 1 FROM incremental_scores d WHERE d.run_id = \(run) AND d.credential_id = s.credential_id)
                  ORDER BY s.raw DESC, s.credential_id LIMIT \(window)))
                """
        } else {
            source = "(SELECT * FROM credential_scores s WHERE s.run_id = \(run) AND \(filters))"
        }
        let x = Self.explanationSQL("s", model: "m")
        // The page first, then its owners and models: a join over a million rows would have to
        // finish before the first row could be returned.
        let sql = PostgresQuery(
            unsafeSQL: """
                SELECT s.credential_key, s.score, s.band, s.p, s.impact, s.hygiene, c.owner,
                       array_remove(ARRAY[\(x.model)] || string_to_array(\(x.agent), ' → ') || ARRAY[s.credential_key, \(x.resource)], NULL), \(x.main)
                FROM (SELECT * FROM \(source) s ORDER BY s.raw DESC, s.credential_id LIMIT $5 OFFSET $6) s
                LEFT JOIN credentials c ON c.id = s.credential_id
                LEFT JOIN \(Self.modelsSQL(run: run, base: base)) m ON m.model_id = s.top_model_id
                ORDER BY s.raw DESC, s.credential_id
                """, binds: try Self.binds(band?.rawValue, minScore, owner, resource, limit, offset))
        for try await (key, score, band, p, impact, hygiene, owner, path, main) in try await db.client.query(sql, logger: db.logger)
            .decode((String, Int16, Band, Double, Double, Double, String?, [String], String).self)
        {
            out.append(Exposure(credential: key, score: Int(score), band: band, p: p, impact: impact, hygiene: hygiene, owner: owner, path: path, mainFactor: main))
        }
        return out
    }

    /// A run named on the command line: its id (a what-if run too), or a date meaning the latest
    /// current run as of then.
    /// `since`: a day alone is the start of that day (the run that stood when it began), as for
    /// every "since"; otherwise its end, as for every "as of".
    public func resolve(_ reference: String, since: Bool = false) async throws -> Int {
        if let id = Int(reference) {
            var exists = false
            for try await _ in try await db.client.query("SELECT 1 FROM score_runs WHERE id = \(id)", logger: db.logger) { exists = true }
            guard exists else { throw StoreError.invalidInput("no scoring run \(id)") }
            return id
        }
        guard let date = since ? Timestamps.parse(reference) : Timestamps.moment(reference) else { throw StoreError.invalidInput("'\(reference)' is neither a run id nor a date") }
        guard let id = try await runID(atOrBefore: date) else { throw StoreError.invalidInput("no current scoring run as of \(reference)") }
        return id
    }

    /// The latest current run whose as-of is at or before `date` (what-if runs never count).
    public func runID(atOrBefore date: Date) async throws -> Int? {
        for try await id in try await db.client.query(
            "SELECT max(id) FROM score_runs WHERE NOT what_if AND as_of <= \(date)", logger: db.logger
        ).decode(Int?.self) { return id }
        return nil
    }

    /// Every credential whose score differs between two runs, worst change first, with the reasons
    /// read from what changed on the paths that reach it (`pathContext`).
    public func diff(from old: Int, to new: Int) async throws -> [ScoreDiff.Row] {
        func side(_ score: Int16?, _ p: Double?, _ h: Double?, _ model: String?, _ agent: String?, _ main: String?, _ terms: [String]?, _ resource: String?) -> ScoreDiff.Side? {
            guard let score, let p, let h else { return nil }
            return ScoreDiff.Side(score: Int(score), p: p, hygiene: h, model: model, agent: agent, main: main ?? "", hygieneTerms: terms ?? [], resource: resource)
        }
        var sides: [(key: String, before: ScoreDiff.Side?, after: ScoreDiff.Side?)] = []
        let (oldRows, newRows) = (try await rows(of: old), try await rows(of: new))
        let (oldBase, newBase) = (try await base(of: old), try await base(of: new))
        let (xo, xn) = (Self.explanationSQL("o", model: "om"), Self.explanationSQL("n", model: "nm"))
        let sql = PostgresQuery(
            unsafeSQL: """
                SELECT coalesce(n.credential_key, o.credential_key),
                       o.score, o.p, o.hygiene, \(xo.model), \(xo.agent), \(xo.main), \(xo.hygiene), \(xo.resource),
                       n.score, n.p, n.hygiene, \(xn.model), \(xn.agent), \(xn.main), \(xn.hygiene), \(xn.resource)
                FROM \(oldRows) o
                FULL JOIN \(newRows) n ON n.credential_id = o.credential_id
                LEFT JOIN \(Self.modelsSQL(run: old, base: oldBase)) om ON om.model_id = o.top_model_id
                LEFT JOIN \(Self.modelsSQL(run: new, base: newBase)) nm ON nm.model_id = n.top_model_id
                WHERE o.score IS DISTINCT FROM n.score
                """)
        for try await row in try await db.client.query(sql, logger: db.logger) {
            let (key, os, op, oh, om, oa, omain, oterms, ores, ns, np, nh, nm, na, nmain, nterms, nres) =
                try row.decode(
                    (
                        String, Int16?, Double?, Double?, String?, String?, String?, [String]?, String?,
                        Int16?, Double?, Double?, String?, String?, String?, [String]?, String?
                    ).self)
            sides.append((key, side(os, op, oh, om, oa, omain, oterms, ores), side(ns, np, nh, nm, na, nmain, nterms, nres)))
        }
        let contexts = try await pathContext(
            sides.filter { $0.before != nil && $0.after != nil }.map(\.key),
            old: (old, oldBase), new: (new, newBase))
        let out = sides.map { s in
            ScoreDiff.Row(
                credential: s.key, before: s.before?.score, after: s.after?.score,
                reasons: ScoreDiff.reasons(before: s.before, after: s.after, context: contexts[s.key] ?? ScoreDiff.Context(reaching: [], unreached: nil)))
        }
        return out.sorted { ($1.change, $0.credential) < ($0.change, $1.credential) }
    }

    /// For each credential: the models whose output reaches it now (used by one of its holders, or
    /// by an agent that delegates to one, at any depth), with their L* and main factor in both runs;
    /// and, when none does, why. One query for all the credentials, walking up from their holders.
    /// The paths are the inventory's as it stands: a diff between two past runs reads today's paths.
    func pathContext(_ keys: [String], old: (run: Int, base: Int?), new: (run: Int, base: Int?)) async throws -> [String: ScoreDiff.Context] {
        guard !keys.isEmpty else { return [:] }
        var out: [String: ScoreDiff.Context] = [:]
        for k in keys { out[k] = ScoreDiff.Context(reaching: [], unreached: nil) }
        var binds = PostgresBindings()
        binds.append(keys)
        // The agents whose output reaches each credential: its holders, and those that delegate to
        // them at any depth (`changed`, `up`); both queries below walk up from the same place.
        let walkUp = """
            WITH RECURSIVE changed AS (SELECT id, key FROM credentials WHERE key = ANY($1)),
            up(credential_id, agent_id) AS (
                SELECT h.credential_id, h.agent_id FROM holds h JOIN changed c ON c.id = h.credential_id
                UNION SELECT u.credential_id, d.agent_id FROM delegates_to d JOIN up u ON d.delegate_id = u.agent_id)
            """
        let reach = PostgresQuery(
            unsafeSQL: """
                \(walkUp),
                reaching AS (SELECT DISTINCT u.credential_id, um.model_id FROM up u JOIN uses_model um ON um.agent_id = u.agent_id)
                SELECT c.key, m.key, om.l_star, nm.l_star, om.main, nm.main
                FROM reaching r JOIN changed c ON c.id = r.credential_id JOIN models m ON m.id = r.model_id
                LEFT JOIN \(Self.modelsSQL(run: old.run, base: old.base)) om ON om.model_id = r.model_id
                LEFT JOIN \(Self.modelsSQL(run: new.run, base: new.base)) nm ON nm.model_id = r.model_id
                ORDER BY c.key, m.key
                """, binds: binds)
        for try await (key, model, lb, la, mb, ma) in try await db.client.query(reach, logger: db.logger)
            .decode((String, String, Double?, Double?, String?, String?).self)
        {
            out[key]?.reaching.append(.init(model: model, before: lb, after: la, mainBefore: mb, mainAfter: ma))
        }
        // Evidence on the agents along its paths recorded, or lapsed, between the two runs: an
        // agent's checks change how far a model's output carries (human review, runtime monitoring).
        var runs: [Int: (asOf: Date, head: Int?)] = [:]
        for try await (id, date, head) in try await db.client.query("SELECT id, as_of, ledger_head FROM score_runs WHERE id IN (\(old.run), \(new.run))", logger: db.logger)
            .decode((Int, Date, Int?).self)
        { runs[id] = (date, head) }
        if let from = runs[old.run], let to = runs[new.run], from.asOf <= to.asOf {
            var window = PostgresBindings()
            window.append(keys); window.append(from.asOf); window.append(to.asOf); window.append(from.head); window.append(to.head)
            // Recorded between the runs: after the first run's ledger head, up to the second's (by
            // time for runs made before heads were kept). Lapsed: expired between the two as-of times.
            let recorded =
                "(CASE WHEN $4::bigint IS NOT NULL AND $5::bigint IS NOT NULL THEN e.id > $4 AND e.id <= $5 "
                + "ELSE date_trunc('second', e.recorded_at) > $2 AND date_trunc('second', e.recorded_at) <= $3 END)"
            let agents = PostgresQuery(
                unsafeSQL: """
                    \(walkUp)
                    SELECT DISTINCT c.key, e.id, e.control_id, e.result, e.subject_key, \(recorded)
                    FROM up u JOIN changed c ON c.id = u.credential_id JOIN agents a ON a.id = u.agent_id
                    JOIN evidence e ON e.subject_kind = 'agent' AND e.subject_key = a.key
                    WHERE \(recorded) OR (e.expires_at > $2 AND e.expires_at <= $3)
                    ORDER BY c.key, e.id
                    """, binds: window)
            for try await (key, id, control, result, agent, recorded) in try await db.client.query(agents, logger: db.logger)
                .decode((String, Int, String, String, String, Bool).self)
            {
                out[key]?.agentEvidence.append(
                    recorded
                        ? "\(result) for \(control) on agent:\(agent) recorded (evidence #\(id))"
                        : "\(control) on agent:\(agent) lapsed (evidence #\(id))")
            }
        }
        for (key, why) in try await CredentialReach(db).reasons(keys) where out[key]?.reaching.isEmpty == true || why == .notLive {
            out[key]?.unreached = why
        }
        return out
    }

    static func binds(_ band: String?, _ minScore: Int?, _ owner: String?, _ resource: String?, _ limit: Int, _ offset: Int) throws -> PostgresBindings {
        var b = PostgresBindings()
        b.append(band); b.append(minScore); b.append(owner); b.append(resource); b.append(limit); b.append(offset)
        return b
    }
}
