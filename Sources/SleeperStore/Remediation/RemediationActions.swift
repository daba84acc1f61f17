import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// The actions recalls made: listed with the acceptances that stand for them, and closed by
/// what the ledger and the inventory show, never by hand.
public struct RemediationActions: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Filter: Sendable {
        public var owner: String?
        public var overdue = false
        public var status: ActionStatus?
        public var recall: Int?
        public init(owner: String? = nil, overdue: Bool = false, status: ActionStatus? = nil, recall: Int? = nil) {
            self.owner = owner
            self.overdue = overdue
            self.status = status
            self.recall = recall
        }
    }

    /// The actions as they stand at `asOf`, in the order of each recall's plan. `owner: "unowned"`
    /// lists those nobody owns.
    /// A filter that names no owner or recall Sleeper knows is refused (`StoreError.notFound`, with
    /// the nearest match), not answered with an empty list.
    public func list(asOf: Date, filter: Filter = Filter()) async throws -> [RemediationAction] {
        let lookup = ReferenceLookup(db)
        if let owner = filter.owner, owner != "unowned" { try await lookup.requireOwner(owner) }
        if let recall = filter.recall { try await lookup.requireRecall(recall) }
        let sql: PostgresQuery = """
            SELECT a.id, a.recall_id, a.subject_kind, a.subject_key, a.action, a.owner, a.band, a.score, a.due_at, a.status,
                   a.created_at, a.closed_at, a.closed_because, acc.accepted_until, acc.approved_by
            FROM remediation_actions a
            LEFT JOIN LATERAL (SELECT r.accepted_until, r.approved_by FROM risk_acceptances r
                               WHERE r.action_id = a.id AND r.created_at <= \(asOf) AND r.accepted_until > \(asOf)
                               ORDER BY r.accepted_until DESC LIMIT 1) acc ON NOT (a.status IN ('done', 'cancelled') AND a.closed_at <= \(asOf))
            WHERE (\(filter.owner)::text IS NULL OR a.owner = \(filter.owner) OR (\(filter.owner) = 'unowned' AND a.owner IS NULL))
              AND (\(filter.recall)::int8 IS NULL OR a.recall_id = \(filter.recall))
              AND a.created_at <= \(asOf)
            ORDER BY a.recall_id, a.rank
            """
        var out: [RemediationAction] = []
        for try await row in try await db.client.query(sql, logger: db.logger)
            .decode((Int, Int, String, String, String, String?, String, Int?, Date, String, Date, Date?, String?, Date?, String?).self)
        {
            let (id, recall, kind, key, action, owner, band, score, due, stored, created, closed, because, until, by) = row
            guard let subjectKind = SubjectKind(rawValue: kind), let actionKind = ActionKind(rawValue: action), let b = Band(rawValue: band),
                let status = ActionStatus(rawValue: stored)
            else {
                throw StoreError.invalidInput("remediation action \(id) has a value this version does not know")
            }
            // Closed after `asOf`: it was still open then.
            let closedThen = status.isClosed && (closed ?? .distantFuture) <= asOf
            let shown: ActionStatus = closedThen ? status : until != nil ? .accepted : status.isClosed ? .open : status
            out.append(
                RemediationAction(
                    id: id, recall: recall, subject: Subject(kind: subjectKind, key: key), action: actionKind, owner: owner,
                    band: b, score: score, due: due, status: shown, created: created,
                    closed: closedThen ? closed : nil, closedBecause: closedThen ? because : nil, acceptedUntil: until, acceptedBy: by))
        }
        return out.filter { a in
            (filter.status == nil || a.status == filter.status) && (!filter.overdue || a.overdue(at: asOf))
        }
    }

    /// Marks an open action as being worked on, by whom (audited). It still closes only from
    /// evidence; marking it again, or a done action, is refused.
    public func start(_ id: Int, by: String, actor: String) async throws {
        try FreeText.require(by, "by", max: FreeText.name)
        try await db.transaction { tx in
            let rows = try await tx.query("SELECT status FROM remediation_actions WHERE id = \(id) FOR UPDATE", logger: db.logger).decode(String.self)
            guard let status = try await rows.first(where: { _ in true }) else { throw StoreError.notFound("no action \(id)") }
            guard status == "open" else { throw StoreError.invalidInput("action \(id) is \(status), not open") }
            try await tx.query("UPDATE remediation_actions SET status = 'in-progress' WHERE id = \(id)", logger: db.logger)
            try await AuditLog.record(actor: actor, action: "action.start", target: "#\(id)", detail: ["by": by], on: tx, logger: db.logger)
        }
    }

    /// Closes every open action whose fix the ledger or the inventory now shows, and says why.
    /// A credential: SLP-ROTATION evidence (a pass in force) effective after the recall, a rotation
    /// date after it from a source, gone from the inventory, or no agent of the recall holding it.
    /// A model: a digest other than the one recalled, or gone. An agent: gone, or neither using a
    /// model of the recall nor taking input from an agent of it. Returns how many closed.
    @discardableResult
    /// Evidence is judged in force at `now` (the command's clock, which a pinned `SLEEPER_NOW`
    /// sets); the database's clock only stamps when each action closed.
    public func closeSatisfied(now: Date = SleeperClock.now()) async throws -> Int {
        try await db.transaction { tx in
            var closed = 0
            for rule in Self.closingRules(now: now) {
                let sql: SQLFragment = """
                    WITH closing AS (\(rule))
                    UPDATE remediation_actions a SET status = 'done', closed_at = now(), closed_because = closing.because
                    FROM closing WHERE a.id = closing.id AND a.status NOT IN ('done', 'cancelled')
                    RETURNING a.id
                    """
                let rows = try await tx.query(sql.query, logger: db.logger)
                for try await _ in rows.decode(Int.self) { closed += 1 }
            }
            if closed > 0 {
                try await AuditLog.record(actor: "sleeper", action: "actions.close", target: nil, detail: ["closed": String(closed)], on: tx, logger: db.logger)
            }
            return closed
        }
    }

    /// The credentials of open actions, for the status query.
    static let openCredentials: SQLFragment = """
        SELECT 'credential'::text AS kind, c.key, c.owner FROM credentials c
        WHERE c.key IN (SELECT subject_key FROM remediation_actions WHERE subject_kind = 'credential' AND status NOT IN ('done', 'cancelled'))
        """

    /// Each rule: the open actions it closes (`id`) and why (`because`). A rotation is shown by
    /// SLP-ROTATION evidence in force now by the one status query gaps and scores read (valid:
    /// the deciding record passes, is not expired, withdrawn or superseded), effective after the
    /// recall.
    static func closingRules(now: Date) -> [SQLFragment] {
        [
            """
            WITH \(EvidenceStatusSQL.statusCTE(subjects: openCredentials, asOf: now))
            SELECT a.id, 'SLP-ROTATION evidence #' || st.evidence_id || ' effective ' || to_char(st.effective_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS because
            FROM remediation_actions a JOIN recalls r ON r.id = a.recall_id
            JOIN status st ON st.kind = 'credential' AND st.key = a.subject_key AND st.control_id = 'SLP-ROTATION'
            WHERE a.status NOT IN ('done', 'cancelled') AND a.subject_kind = 'credential'
              AND st.status = 'valid' AND st.effective_at >= date_trunc('second', r.recalled_at)
            """,
            """
            SELECT a.id, 'rotated on ' || to_char(c.last_rotated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ', after the recall (inventory)' AS because
            FROM remediation_actions a JOIN recalls r ON r.id = a.recall_id JOIN credentials c ON c.key = a.subject_key
            WHERE a.status NOT IN ('done', 'cancelled') AND a.subject_kind = 'credential' AND c.last_rotated_at >= date_trunc('second', r.recalled_at)
            """,
            """
            SELECT a.id, 'not live: ' || c.state || ' at its source (inventory)' AS because
            FROM remediation_actions a JOIN credentials c ON c.key = a.subject_key
            WHERE a.status NOT IN ('done', 'cancelled') AND a.subject_kind = 'credential' AND c.state <> 'active'
            """,
            """
            SELECT a.id, 'no longer in the inventory' AS because
            FROM remediation_actions a
            WHERE a.status NOT IN ('done', 'cancelled') AND NOT EXISTS (
                SELECT 1 FROM credentials c WHERE a.subject_kind = 'credential' AND c.key = a.subject_key
                UNION ALL SELECT 1 FROM agents g WHERE a.subject_kind = 'agent' AND g.key = a.subject_key
                UNION ALL SELECT 1 FROM models m WHERE a.subject_kind = 'model' AND m.key = a.subject_key)
            """,
            """
            SELECT a.id, 'no agent of the recall holds it any more' AS because
            FROM remediation_actions a JOIN credentials c ON c.key = a.subject_key
            WHERE a.status NOT IN ('done', 'cancelled') AND a.subject_kind = 'credential' AND NOT EXISTS (
                SELECT 1 FROM holds h JOIN agents g ON g.id = h.agent_id
                JOIN remediation_actions x ON x.recall_id = a.recall_id AND x.subject_kind = 'agent' AND x.subject_key = g.key
                WHERE h.credential_id = c.id)
            """,
            """
            SELECT a.id, 'replaced: digest ' || coalesce(m.digest, 'none') || ' since the recall' AS because
            FROM remediation_actions a JOIN models m ON m.key = a.subject_key
            WHERE a.status NOT IN ('done', 'cancelled') AND a.subject_kind = 'model' AND m.digest IS DISTINCT FROM a.digest_at_recall
            """,
            """
            SELECT a.id, 'uses no model and takes input from no agent of the recall' AS because
            FROM remediation_actions a JOIN agents g ON g.key = a.subject_key JOIN recalls r ON r.id = a.recall_id
            WHERE a.status NOT IN ('done', 'cancelled') AND a.subject_kind = 'agent' AND NOT (r.subject_kind = 'agent' AND r.subject_key = a.subject_key)
              AND NOT EXISTS (SELECT 1 FROM uses_model u JOIN models m ON m.id = u.model_id
                              WHERE u.agent_id = g.id AND ((r.subject_kind = 'model' AND m.key = r.subject_key)
                                    OR EXISTS (SELECT 1 FROM remediation_actions x WHERE x.recall_id = a.recall_id AND x.subject_kind = 'model' AND x.subject_key = m.key)))
              AND NOT EXISTS (SELECT 1 FROM delegates_to d JOIN agents f ON f.id = d.agent_id
                              JOIN remediation_actions x ON x.recall_id = a.recall_id AND x.subject_kind = 'agent' AND x.subject_key = f.key AND x.status NOT IN ('done', 'cancelled')
                              WHERE d.delegate_id = g.id)
            """,
        ]
    }
}
