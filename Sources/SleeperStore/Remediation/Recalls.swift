import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// Recalls: subjects withdrawn from use, counted as compromised while they stand, and the plan of
/// actions each one made.
public struct Recalls: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Standing: Sendable {
        public var id: Int
        public var subject: Subject
        public var reason: String
        public var by: String
        public var at: Date
    }

    /// The plan a recall of `subject` makes, with every credential scored as if the recall stood
    /// (the subject counted as compromised) as of `asOf`.
    /// With the plan, the resources the reached credentials are granted on (the damage a recall
    /// contains), most critical tier first.
    public func plan(_ subject: Subject, policy: RemediationPolicy, asOf: Date) async throws -> (plan: [PlannedAction], resources: [String]) {
        let weights = try ScoreRuns.bundledWeights()
        let loader = ScoringInputLoader(db)
        let down = try await loader.downstream(of: subject)
        var (input, ids) = try await loader.load(
            asOf: asOf, weights: weights,
            scope: try await loader.upstreamScope(credentialIDs: down.credentials, agents: down.agents, models: down.models))
        switch subject.kind {
        case .model: for i in input.models.indices where input.models[i].key == subject.key { input.models[i].recall = 0; input.models[i].carriedLStar = nil }
        case .dataset: for i in input.datasets.indices where input.datasets[i].key == subject.key { input.datasets[i].recall = 0 }
        case .agent: for i in input.agents.indices where input.agents[i].key == subject.key { input.agents[i].recall = 0 }
        case .credential: throw StoreError.invalidInput("a credential is not recalled: rotate or revoke it")
        }
        let result = try ScoringEngine(weights: weights).score(input)
        let reached = Set(down.credentials)
        var credentials: [RecallReach.Credential] = []
        for (i, c) in input.credentials.enumerated() where reached.contains(ids.credentials[i]) {
            let s = result.credentials[i]
            credentials.append(RecallReach.Credential(key: c.key, owner: c.owner, score: s.score, band: s.band, raw: s.raw))
        }
        let reach = RecallReach(
            models: try await entities("models", down.models, digest: true), agents: try await entities("agents", down.agents),
            credentials: credentials)
        var resources: [Int: ResourceTier] = [:]
        for (i, c) in input.credentials.enumerated() where reached.contains(ids.credentials[i]) {
            for g in c.grants { resources[g.resource] = input.resources[g.resource].tier }
        }
        let named = resources.keys.sorted { (resources[$0]?.rawValue ?? 9, input.resources[$0].key) < (resources[$1]?.rawValue ?? 9, input.resources[$1].key) }
            .map { input.resources[$0].key }
        return (RecallPlan.actions(reach, policy: policy, from: asOf), named)
    }

    func entities(_ table: String, _ ids: [Int], digest: Bool = false) async throws -> [RecallReach.Entity] {
        var binds = PostgresBindings()
        binds.append(ids)
        let sql = PostgresQuery(unsafeSQL: "SELECT key, owner, \(digest ? "digest" : "NULL::text") FROM \(table) WHERE id = ANY($1) ORDER BY key", binds: binds)
        var out: [RecallReach.Entity] = []
        for try await (key, owner, d) in try await db.client.query(sql, logger: db.logger).decode((String, String?, String?).self) {
            out.append(RecallReach.Entity(key: key, owner: owner, digest: d))
        }
        return out
    }

    /// Records the recall and its plan in one transaction; refused while another recall of the
    /// subject stands. Returns the recall's id.
    /// `owing`: the rescore the recall is owed, recorded on its transaction (with the recall's id).
    public func record(
        _ subject: Subject, reason: String, by: String, plan: [PlannedAction], actor: String,
        owing: ((Int, Date, PostgresConnection) async throws -> Int64)? = nil
    ) async throws -> (id: Int, at: Date, debt: Int64?) {
        try FreeText.require(reason, "reason", max: FreeText.reason)
        try FreeText.require(by, "by", max: FreeText.name)
        try await ReferenceLookup(db).requireSubject(subject)
        return try await db.transaction { tx in
            // Concurrent recalls of one subject take turns here: the second sees the first's recall
            // standing (without it both found none, and the second failed on the unique index).
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended(\("recall " + subject.description), 0))", logger: db.logger)
            let standing = try await tx.query(
                """
                SELECT id FROM recalls WHERE subject_kind = \(subject.kind.rawValue) AND subject_key = \(subject.key) AND released_at IS NULL FOR UPDATE
                """, logger: db.logger
            ).decode(Int.self).first { _ in true }
            if let standing { throw StoreError.conflict("\(subject) is already recalled (recall #\(standing)); release it first to recall it again") }
            guard
                let (id, at) = try await tx.query(
                    """
                    INSERT INTO recalls (subject_kind, subject_key, reason, recalled_by) VALUES (\(subject.kind.rawValue), \(subject.key), \(reason), \(by))
                    RETURNING id, recalled_at
                    """, logger: db.logger
                ).decode((Int, Date).self).first(where: { _ in true })
            else { throw StoreError.invalidInput("the recall was not stored") }
            // Optional values travel as arrays with a stand-in (\u{1}, -1) that nullif turns back into NULL.
            try await tx.query(
                """
                INSERT INTO remediation_actions (recall_id, subject_kind, subject_key, action, owner, band, score, rank, digest_at_recall, due_at)
                SELECT \(id), kind, key, action, nullif(owner, E'\\x01'), band, nullif(score, -1), rank, nullif(digest, E'\\x01'), due
                FROM unnest(\(plan.map(\.subject.kind.rawValue)), \(plan.map(\.subject.key)), \(plan.map(\.action.rawValue)),
                            \(plan.map { $0.owner ?? "\u{1}" }), \(plan.map(\.band.rawValue)), \(plan.map { $0.score ?? -1 }), \(plan.indices.map { $0 + 1 }),
                            \(plan.map { $0.digest ?? "\u{1}" }), \(plan.map(\.due)))
                     AS p (kind, key, action, owner, band, score, rank, digest, due)
                """, logger: db.logger)
            try await WebhookOutbox.record(
                kind: "recall", subject: subject.description, dedupe: "recall:\(id)",
                payload: .obj([
                    ("recall", .int(id)), ("subject", .string(subject.description)), ("reason", .string(reason)), ("by", .string(by)),
                    ("actions", .int(plan.count)), ("summary", .string(ActionListing.summary(plan))),
                ]), on: tx, logger: db.logger)
            try await AuditLog.record(
                actor: actor, action: "recall.create", target: subject.description,
                detail: ["recall": String(id), "actions": String(plan.count), "reason": reason, "by": by], on: tx, logger: db.logger)
            return (id, at, try await owing?(id, at, tx))
        }
    }

    /// Ends the standing recall of `subject`: it is scored by its own risk again, and the actions of
    /// its plan still open close, citing the release.
    public func release(
        _ subject: Subject, reason: String, by: String, actor: String,
        owing: ((Int, Date, PostgresConnection) async throws -> Int64)? = nil
    ) async throws -> (id: Int, at: Date, debt: Int64?) {
        try FreeText.require(reason, "reason", max: FreeText.reason)
        try FreeText.require(by, "by", max: FreeText.name)
        let now = SleeperClock.now()
        return try await db.transaction { tx in
            guard
                let (id, at) = try await tx.query(
                    """
                    UPDATE recalls SET released_at = now(), released_by = \(by), release_reason = \(reason)
                    WHERE subject_kind = \(subject.kind.rawValue) AND subject_key = \(subject.key) AND released_at IS NULL
                    RETURNING id, released_at
                    """, logger: db.logger
                ).decode((Int, Date).self).first(where: { _ in true })
            else {
                throw StoreError.notFound("\(subject) is not recalled")
            }
            // The plan ends with the recall, but releasing is not doing: what is still open is
            // cancelled, saying by whom and why, and an acceptance of it ends with it.
            try await tx.query(
                """
                WITH cancelled AS (
                    UPDATE remediation_actions SET status = 'cancelled', closed_at = now(),
                           closed_because = 'cancelled: recall released by ' || \(by) || ': ' || \(reason)
                    WHERE recall_id = \(id) AND status NOT IN ('done', 'cancelled')
                    RETURNING id)
                UPDATE risk_acceptances r SET accepted_until = greatest(\(now), r.created_at + interval '1 microsecond')
                FROM cancelled c WHERE r.action_id = c.id AND r.accepted_until > \(now)
                """, logger: db.logger)
            try await AuditLog.record(
                actor: actor, action: "recall.release", target: subject.description,
                detail: ["recall": String(id), "reason": reason, "by": by], on: tx, logger: db.logger)
            return (id, at, try await owing?(id, at, tx))
        }
    }

    /// The recalls that stand now.
    public func standing() async throws -> [Standing] {
        var out: [Standing] = []
        for try await (id, kind, key, reason, by, at) in try await db.client.query(
            """
            SELECT id, subject_kind, subject_key, reason, recalled_by, recalled_at FROM recalls WHERE released_at IS NULL ORDER BY id
            """, logger: db.logger
        ).decode((Int, String, String, String, String, Date).self) {
            guard let k = SubjectKind(rawValue: kind) else { continue }
            out.append(Standing(id: id, subject: Subject(kind: k, key: key), reason: reason, by: by, at: at))
        }
        return out
    }
}
