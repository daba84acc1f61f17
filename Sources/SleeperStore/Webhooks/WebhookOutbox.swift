import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// Webhook events and their deliveries. Events are written once per fact (`dedupe`), in the
/// transaction of the change where there is one (a recall), or found by `scan` (an action that
/// became overdue, an acceptance that lapsed, a run's newly critical credentials).
public struct WebhookOutbox: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Delivery: Sendable {
        public var eventID: Int
        public var url: String
        public var attempts: Int
        public var kind: String
        /// The body to send, as stored.
        public var body: String
    }

    /// The most attempts at one delivery; the waits between them double from 2 s up to 5 minutes.
    public static let maximumAttempts = 8

    /// Records an event in the transaction of the change it reports.
    static func record(kind: String, subject: String, dedupe: String, payload: JSONValue, on tx: PostgresConnection, logger: Logger) async throws {
        // A payload leaves Sleeper: no value judged secret goes with it.
        let payload = payload.mappingStrings(SecretScanner.redacted)
        try await tx.query(
            """
            INSERT INTO webhook_events (kind, subject, dedupe, payload) VALUES (\(kind), \(subject), \(dedupe), \(payload.pretty(indent: 0))::jsonb)
            ON CONFLICT (dedupe) DO NOTHING
            """, logger: logger)
    }

    /// Finds the facts that became true by `now`: overdue actions (open, not accepted), lapsed
    /// acceptances, and the credentials the latest current run newly found critical (one event
    /// per run, naming at most 50). Returns how many events were new.
    @discardableResult
    public func scan(now: Date) async throws -> Int {
        var added = 0
        let statements: [PostgresQuery] = [
            """
            INSERT INTO webhook_events (kind, subject, dedupe, payload)
            SELECT 'overdue-action', a.subject_kind || ':' || a.subject_key, 'overdue:' || a.id,
                   jsonb_build_object('action', a.id, 'recall', a.recall_id, 'subject', a.subject_kind || ':' || a.subject_key, 'what', a.action,
                                      'owner', coalesce(a.owner, 'unowned'), 'band', a.band, 'due', a.due_at)
            FROM remediation_actions a
            WHERE a.status NOT IN ('done', 'cancelled') AND a.due_at < \(now)
              AND NOT EXISTS (SELECT 1 FROM risk_acceptances r WHERE r.action_id = a.id AND r.created_at <= \(now) AND r.accepted_until > \(now))
            ON CONFLICT (dedupe) DO NOTHING RETURNING id
            """,
            """
            INSERT INTO webhook_events (kind, subject, dedupe, payload)
            SELECT 'lapsed-acceptance', r.subject_kind || ':' || r.subject_key, 'lapsed:' || r.id,
                   jsonb_build_object('acceptance', r.id, 'subject', r.subject_kind || ':' || r.subject_key,
                                      'accepted', coalesce(r.control_id, 'action #' || r.action_id), 'band', r.band,
                                      'approved_by', r.approved_by, 'until', r.accepted_until)
            FROM risk_acceptances r WHERE r.accepted_until <= \(now)
            ON CONFLICT (dedupe) DO NOTHING RETURNING id
            """,
        ]
        for sql in statements {
            for try await _ in try await db.client.query(sql, logger: db.logger).decode(Int.self) { added += 1 }
        }
        added += try await scanCritical()
        return added
    }

    /// One event for the latest current run if it found credentials critical that the run before
    /// it did not (every critical one, for the first run).
    func scanCritical() async throws -> Int {
        let runs = ScoreRuns(db)
        guard let latest = try await runs.latestRunID() else { return 0 }
        var previous: Int?
        for try await id in try await db.client.query("SELECT max(id) FROM score_runs WHERE NOT what_if AND id < \(latest)", logger: db.logger).decode(Int?.self) { previous = id }
        let now = try await runs.rows(of: latest)
        var before: String?
        if let previous { before = try await runs.rows(of: previous) }
        let newly = before.map { "AND NOT EXISTS (SELECT 1 FROM \($0) p WHERE p.credential_id = s.credential_id AND p.band = 'critical')" } ?? ""
        var added = 0
        for try await _ in try await db.client.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH fresh AS (SELECT s.credential_key, s.score, s.raw FROM \(now) s WHERE s.band = 'critical' \(newly))
                    INSERT INTO webhook_events (kind, subject, dedupe, payload)
                    SELECT 'critical-exposure', 'run:' || \(latest), 'critical:' || \(latest),
                           jsonb_build_object('run', \(latest), 'count', (SELECT count(*) FROM fresh),
                                              'credentials', (SELECT jsonb_agg(jsonb_build_object('credential', credential_key, 'score', score) ORDER BY raw DESC)
                                                              FROM (SELECT * FROM fresh ORDER BY raw DESC LIMIT 50) f))
                    WHERE EXISTS (SELECT 1 FROM fresh)
                    ON CONFLICT (dedupe) DO NOTHING RETURNING id
                    """), logger: db.logger
        ).decode(Int.self) { added += 1 }
        return added
    }

    /// Makes a delivery of every event to every URL that has none yet.
    public func enqueue(urls: [String]) async throws {
        guard !urls.isEmpty else { return }
        try await db.client.query(
            """
            INSERT INTO webhook_deliveries (event_id, url) SELECT e.id, u FROM webhook_events e CROSS JOIN unnest(\(urls)::text[]) u
            ON CONFLICT DO NOTHING
            """, logger: db.logger)
    }

    /// Claims up to `limit` deliveries that are due, leasing them for a minute so that another
    /// server does not send them at the same time.
    /// `excluding`: receivers with a delivery in flight, claimed once it ends.
    public func claim(limit: Int = 20, excluding busy: [String] = []) async throws -> [Delivery] {
        var out: [Delivery] = []
        for try await (event, url, attempts, kind, subject, payload, created) in try await db.client.query(
            """
            WITH due AS (
                SELECT event_id, url FROM webhook_deliveries
                WHERE delivered_at IS NULL AND NOT gave_up AND next_attempt_at <= now() AND url <> ALL(\(busy)::text[])
                ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            UPDATE webhook_deliveries d SET next_attempt_at = now() + interval '1 minute'
            FROM due, webhook_events e
            WHERE d.event_id = due.event_id AND d.url = due.url AND e.id = d.event_id
            RETURNING d.event_id, d.url, d.attempts, e.kind, e.subject, e.payload::text, e.created_at
            """, logger: db.logger
        ).decode((Int, String, Int, String, String, String, Date).self) {
            let body =
                "{\"id\": \(event), \"kind\": \(JSONText.string(kind)), \"subject\": \(JSONText.string(subject)), \"created_at\": \(JSONText.string(Timestamps.format(created))), \"data\": \(payload)}"
            out.append(Delivery(eventID: event, url: url, attempts: attempts, kind: kind, body: body))
        }
        return out
    }

    /// Records one attempt: delivered, or to be tried again after a doubling wait, or given up.
    public func finish(_ d: Delivery, status: Int?, error: String?) async throws {
        let delivered = status.map { (200..<300).contains($0) } ?? false
        let attempts = d.attempts + 1
        let giveUp = !delivered && attempts >= Self.maximumAttempts
        let wait = min(300, 1 << min(attempts, 9))
        try await db.transaction { tx in
            try await tx.query(
                """
                UPDATE webhook_deliveries SET attempts = \(attempts), last_status = \(status), last_error = \(error),
                       delivered_at = CASE WHEN \(delivered) THEN now() END, gave_up = \(giveUp),
                       next_attempt_at = now() + make_interval(secs => \(wait))
                WHERE event_id = \(d.eventID) AND url = \(d.url)
                """, logger: db.logger)
            if delivered || giveUp {
                try await AuditLog.record(
                    actor: "sleeper-serve", action: delivered ? "webhook.delivered" : "webhook.gave-up", target: d.url,
                    detail: [
                        "event": String(d.eventID), "kind": d.kind, "attempts": String(attempts),
                        "status": status.map(String.init) ?? "none",
                    ], on: tx, logger: db.logger)
            }
        }
    }
}
