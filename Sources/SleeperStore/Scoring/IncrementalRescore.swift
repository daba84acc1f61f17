import Foundation
import PostgresNIO
import SleeperCore

/// Rescoring after a change: only the credentials downstream of the changed subjects are
/// recomputed, each from its upstream alone, and stored as an incremental run over the latest
/// full run. Every input of a score lies upstream of it, so these scores equal a full run's at
/// the same date (tested on random changes).
public struct IncrementalRescore: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// Every credential's id, as one array (a million rows decoded one by one took seconds).
    func allCredentials() async throws -> Set<Int> {
        for try await row in try await db.client.query("SELECT array_agg(id) FROM credentials", logger: db.logger) {
            return Set(try BinaryArray(row.first?.bytes)?.nonNullIntegers() ?? [])
        }
        return []
    }

    /// Past this share of all credentials (and this many) a full run is cheaper than an incremental one.
    public static let fullRunShare = 0.2
    public static let fullRunMinimum = 10_000

    static func fullRunIsCheaper(affected: Int, total: Int) -> Bool {
        Double(affected) > fullRunShare * Double(total) && affected > fullRunMinimum
    }

    /// What a rescore after a change did. The latest run always reflects the store: when the
    /// change reaches too much of the estate for an incremental run to pay, a full run is made.
    public struct Outcome: Sendable {
        /// The new run, or nil when there was no run to keep current (or nothing was reached).
        public var run: Int?
        /// The full run an incremental run builds on; nil for a full run.
        public var base: Int?
        public var affected: Int
        public var totalCredentials: Int
        public var durationMs: Int
        /// Whether the rescore started from the model scores the latest run stored (reading only
        /// the changed part and its direct upstream) rather than from the credentials' whole upstream.
        public var fromStoredModels = false
        /// How many committed changes the run settled (concurrent changes are scored together).
        public var changes = 1
        /// The change was scored by a run another request or command made (with its own).
        public var scoredWithOthers = false
        public var wasFullRun: Bool { run != nil && base == nil }

        public var summary: String {
            if scoredWithOthers { return run.map { "scored with other changes in run \($0)" } ?? "scored with other changes (no scoring run yet: run `sleeper score`)" }
            guard let run else { return affected == 0 ? "no credential is downstream of the change" : "no scoring run yet: run `sleeper score`" }
            let together = changes > 1 ? " (\(changes) changes scored together)" : ""
            if let base { return "rescored \(affected) credential(s) downstream in \(durationMs) ms: run \(run), incremental over run \(base)" + together }
            return "\(affected) of \(totalCredentials) credentials are downstream of the change: full run \(run) in \(durationMs) ms" + together
        }
    }

    /// What lies downstream of a change: the credentials whose score can depend on it, and the
    /// models whose L* can.
    public struct Reach: Sendable {
        public var credentials: Set<Int> = [], models: Set<Int> = []
        public init(credentials: Set<Int> = [], models: Set<Int> = []) { self.credentials = credentials; self.models = models }
        public func union(_ other: Reach) -> Reach {
            Reach(credentials: credentials.union(other.credentials), models: models.union(other.models))
        }
    }

    /// Everything downstream of the subjects through datasets, lineage, use, delegation and
    /// holding, and the resources' grant holders.
    public func reach(of subjects: [Subject], resources: [String] = []) async throws -> Reach {
        func keys(_ kind: SubjectKind) -> [String] { subjects.filter { $0.kind == kind }.map(\.key) }
        var binds = PostgresBindings()
        binds.append(keys(.model)); binds.append(keys(.dataset)); binds.append(keys(.agent)); binds.append(keys(.credential)); binds.append(resources)
        let sql = PostgresQuery(
            unsafeSQL: """
                WITH RECURSIVE
                down_models(id) AS (
                    SELECT id FROM models WHERE key = ANY($1)
                    UNION SELECT model_id FROM trained_on WHERE dataset_id IN (SELECT id FROM datasets WHERE key = ANY($2))
                    UNION SELECT d.model_id FROM derived_from d JOIN down_models m ON d.parent_id = m.id
                ),
                down_agents(id) AS (
                    SELECT agent_id FROM uses_model WHERE model_id IN (SELECT id FROM down_models)
                    UNION SELECT id FROM agents WHERE key = ANY($3)
                    UNION SELECT x.delegate_id FROM delegates_to x JOIN down_agents a ON x.agent_id = a.id
                )
                SELECT 'm', id FROM down_models
                UNION ALL
                (SELECT 'c', credential_id FROM holds WHERE agent_id IN (SELECT id FROM down_agents)
                 UNION SELECT 'c', id FROM credentials WHERE key = ANY($4)
                 UNION SELECT 'c', g.credential_id FROM grants g JOIN resources r ON r.id = g.resource_id WHERE r.key = ANY($5))
                """, binds: binds)
        var out = Reach()
        for try await (kind, id) in try await db.client.query(sql, logger: db.logger).decode((String, Int).self) {
            if kind == "m" { out.models.insert(id) } else { out.credentials.insert(id) }
        }
        return out
    }

    /// Rescores what `reach` names as of `asOf` into a new incremental run. Models outside it keep
    /// the L* the latest run stored for them, so only the changed part and its direct upstream are
    /// read; without stored model scores (runs before migration 0007) the credentials' whole
    /// upstream is read instead. Either way the scores equal a full run's when the latest run
    /// has the same as-of time (tested on random changes); otherwise what lies upstream of the
    /// change stands as that run computed it.
    /// `full`: make a full run whatever the reach (after credentials were deleted, which an
    /// incremental run, reading its base run's rows, cannot leave out).
    public func rescore(
        _ reach: Reach, asOf: Date, weights: ScoringWeights, trigger: String,
        actor: String = AuditLog.commandLineActor, full: Bool = false
    ) async throws -> Outcome {
        // From reading the latest run to the commit of the new one, no other current run is made.
        try await RunLock.holding(db) {
            try await rescoreHoldingLock(reach, asOf: asOf, weights: weights, trigger: trigger, actor: actor, full: full)
        }
    }

    /// Settles what committed changes are owed (`rescores_owed`): every open debt in one run, as of
    /// the latest of their times. `debt`: the caller's own; when another run has settled it while
    /// the caller waited for the lock, that run is the answer and nothing more is made.
    public func settle(_ debt: Int64? = nil, asOf: Date = SleeperClock.now(), actor: String = AuditLog.commandLineActor) async throws -> Outcome {
        try await RunLock.holding(db) {
            if let debt {
                let (settled, run) = try await RescoreDebts.settled(debt, db)
                if settled {
                    var outcome = Outcome(run: run, base: nil, affected: 0, totalCredentials: 0, durationMs: 0)
                    if let run { outcome.base = try await ScoreRuns(db).base(of: run) }
                    outcome.scoredWithOthers = true
                    return outcome
                }
            }
            let debts = try await RescoreDebts.open(db)
            guard !debts.isEmpty else { return Outcome(run: nil, base: nil, affected: 0, totalCredentials: 0, durationMs: 0, changes: 0) }
            var reach = try await reach(of: debts.flatMap(\.subjects), resources: debts.flatMap(\.resources))
            reach.credentials.formUnion(debts.flatMap(\.credentials).map(Int.init))
            reach.models.formUnion(debts.flatMap(\.models).map(Int.init))
            let latest = debts.map(\.asOf).max() ?? asOf
            let trigger =
                debts.count == 1
                ? debts[0].trigger
                : "\(debts.count) changes: " + debts.prefix(5).map(\.trigger).joined(separator: "; ") + (debts.count > 5 ? "; …" : "")
            var outcome = try await rescoreHoldingLock(
                reach, asOf: max(asOf, latest), weights: try ScoreRuns.bundledWeights(), trigger: trigger,
                actor: actor, full: debts.contains(where: \.fullRun), settling: debts.map(\.id))
            outcome.changes = debts.count
            return outcome
        }
    }

    /// What settling the owed rescores came to, for whoever reports it.
    public enum Settling: Sendable {
        case nothingOwed
        case settled(RescoreDebts.Behind, Outcome)
        /// Still owed: how far behind the scores are, and why settling failed.
        case behind(RescoreDebts.Behind, String)
    }

    /// Settles what committed changes are owed, when the oldest debt has waited `olderThan`
    /// seconds: the one step before an answer from scores (commands, API reads, the service).
    public func settleOwed(olderThan: TimeInterval = 0, actor: String = AuditLog.commandLineActor) async -> Settling {
        guard let behind = (try? await RescoreDebts.behind(db)) ?? nil, Date().timeIntervalSince(behind.since) >= olderThan else { return .nothingOwed }
        do { return .settled(behind, try await settle(actor: actor)) } catch { return .behind(behind, StoreError.describe(error)) }
    }

    private func rescoreHoldingLock(
        _ reach: Reach, asOf: Date, weights: ScoringWeights, trigger: String, actor: String, full: Bool,
        settling: [Int64] = []
    ) async throws -> Outcome {
        let affected = reach.credentials
        let clock = ContinuousClock(), start = clock.now
        var latest: (id: Int, base: Int?, bands: String?, credentials: Int)? = nil
        for try await row in try await db.client.query(
            "SELECT id, base_run_id, bands::text, credentials FROM score_runs WHERE NOT what_if ORDER BY id DESC LIMIT 1", logger: db.logger
        )
        .decode((Int, Int?, String?, Int).self) { latest = row }
        // The latest run's count stands in for the inventory's: counting a million rows costs 40 ms.
        let total = max(latest?.credentials ?? 0, affected.count)
        guard let latest, !affected.isEmpty || full else {
            // Nothing to keep current: what was owed is settled without a run.
            if !settling.isEmpty { try await db.transaction { tx in try await RescoreDebts.settle(settling, run: nil, on: tx, logger: db.logger) } }
            return Outcome(run: nil, base: nil, affected: affected.count, totalCredentials: total, durationMs: 0)
        }
        let runs = ScoreRuns(db)
        // An incremental run carries its predecessor's rows forward; once those and the new ones
        // are a large share of the estate, a full run costs less and starts the chain afresh.
        var carried = 0
        if latest.base != nil {
            for try await n in try await db.client.query("SELECT count(*)::int FROM incremental_scores WHERE run_id = \(latest.id)", logger: db.logger)
                .decode(Int.self)
            { carried = n }
        }
        if full || Self.fullRunIsCheaper(affected: affected.count + carried, total: total) {
            let run = try await runs.runHoldingLock(asOf: asOf, weights: weights, actor: actor, trigger: trigger, whatIf: false, settling: settling)
            return Outcome(run: run.id, base: nil, affected: affected.count, totalCredentials: total, durationMs: ScoreRuns.ms(clock.now - start))
        }
        let loader = ScoringInputLoader(db)
        let t0 = clock.now
        // The old bands of the credentials about to be rescored, read beside the rescoring.
        async let oldBands = previousBands(of: affected, latest: latest.id, base: latest.base)
        let stored = ScoreRuns.modelsSQL(run: latest.id, base: latest.base)
        let bounded = try await loader.boundedScope(
            credentialIDs: Array(affected), recompute: Array(reach.models),
            delegationRounds: weights.delegationRounds, storedModels: stored)
        let scope: ScoringInputLoader.Scope
        if let bounded { scope = bounded } else { scope = try await loader.upstreamScope(credentialIDs: Array(affected)) }
        let t1 = clock.now
        let (input, ids) = try await loader.load(asOf: asOf, weights: weights, scope: scope)
        let t2 = clock.now
        let result = try ScoringEngine(weights: weights).score(input)
        let t3 = clock.now
        PhaseTiming.report("scope \(t1 - t0) (\(scope.agents.count) agents, \(scope.models.count) models, \(scope.carried.count) carried), load \(t2 - t1), score \(t3 - t2)")

        // Band counts: the latest run's, less the affected credentials' old bands, plus their new ones.
        var bands = Self.decodeBands(latest.bands)
        for (band, n) in try await oldBands { bands[band, default: 0] -= n }
        for c in result.credentials { bands[c.band, default: 0] += 1 }

        let base = latest.base ?? latest.id
        let t4 = clock.now
        defer { PhaseTiming.report("write \(clock.now - t4)") }
        let run = try await runs.write(
            ids: ids, input: input, result: result, asOf: asOf, weights: weights,
            base: base, carried: latest.base == nil ? nil : latest.id, bands: bands,
            trigger: trigger, started: start, actor: actor, settling: settling)
        return Outcome(
            run: run, base: base, affected: affected.count, totalCredentials: total, durationMs: ScoreRuns.ms(clock.now - start),
            fromStoredModels: scope.bounded)
    }

    /// How many of `credentials` each band held in the latest run. Each row is looked up by id,
    /// the run's own before its base run's: the planner cannot know a new run's size, and a join
    /// let it sort a million rows instead.
    func previousBands(of credentials: Set<Int>, latest: Int, base: Int?) async throws -> [(Band, Int)] {
        var binds = PostgresBindings()
        binds.append(Array(credentials))
        var out: [(Band, Int)] = []
        for try await row in try await db.client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT s.band, count(*)::int FROM unnest($1::int8[]) a(id)
                    CROSS JOIN LATERAL (SELECT band FROM incremental_scores c WHERE c.run_id = \(latest) AND c.credential_id = a.id
                                        UNION ALL
                                        SELECT band FROM credential_scores c WHERE c.run_id = \(base ?? latest) AND c.credential_id = a.id
                                        LIMIT 1) s
                    GROUP BY s.band
                    """, binds: binds), logger: db.logger
        ).decode((Band, Int).self) { out.append(row) }
        return out
    }

    static func decodeBands(_ json: String?) -> [Band: Int] {
        guard let json, case .object(let f)? = try? JSONTreeParser.parse(Data(json.utf8)) else { return [:] }
        var out: [Band: Int] = [:]
        for (k, v) in f { if case .int(let n) = v, let band = Band(rawValue: k) { out[band] = n } }
        return out
    }
}

extension IncrementalRescore {
    /// After evidence was recorded: rescore what lies downstream of its subjects.
    public func afterEvidence(_ records: [EvidenceRecord], asOf: Date = SleeperClock.now(), actor: String = AuditLog.commandLineActor) async throws -> Outcome {
        let ids = records.map(\.id)
        guard let first = ids.min(), let last = ids.max() else {
            return Outcome(run: nil, base: nil, affected: 0, totalCredentials: 0, durationMs: 0)
        }
        let trigger = first == last ? "evidence #\(first)" : "evidence #\(first)–#\(last)"
        return try await rescore(
            try await reach(of: records.map(\.subject)), asOf: asOf,
            weights: try ScoreRuns.bundledWeights(), trigger: trigger, actor: actor)
    }

    /// Imports at most this many entities are traced incrementally; larger ones make a full run.
    public static let largestIncrementalImport = 50_000

}
