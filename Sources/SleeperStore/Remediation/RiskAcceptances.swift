import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// Decisions to live with a risk for a while: a control's gap on a subject, or an open action,
/// accepted until a date by a named approver. They lapse by themselves: every answer compares
/// the date with its as-of time.
public struct RiskAcceptances: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public enum Target: Sendable {
        case control(String)
        case action(Int)
    }

    public typealias Accepted = AcceptedRisk

    /// Records an acceptance after checking it: the subject exists; the control applies to it, or
    /// the action is its own and still open; the date lies ahead and within the policy's longest
    /// acceptance for the band at stake (an action's band; for a control, the subject's worst band
    /// in the current run).
    public func accept(
        _ subject: Subject, _ target: Target, until: Date, by: String, reason: String, policy: RemediationPolicy,
        asOf: Date, actor: String
    ) async throws -> Accepted {
        try FreeText.require(by, "by", max: FreeText.name)
        try FreeText.require(reason, "reason", max: FreeText.reason)
        try await ReferenceLookup(db).requireSubject(subject)
        let band: Band
        var control: String?, action: Int?
        switch target {
        case .control(let id):
            let controls = try await CatalogQueries(db).controls()
            guard let c = controls.first(where: { $0.id == id }) else { throw StoreError.notFound("--control: no control '\(id)' (see `sleeper controls`)") }
            guard c.appliesTo.contains(subject.kind) else {
                throw StoreError.invalidInput("--control: \(id) does not apply to a \(subject.kind.rawValue)")
            }
            control = id
            band = try await worstBand(of: subject)
        case .action(let id):
            let rows = try await db.client.query(
                """
                SELECT subject_kind, subject_key, band, status FROM remediation_actions WHERE id = \(id)
                """, logger: db.logger
            ).decode((String, String, String, String).self)
            guard let (kind, key, b, status) = try await rows.first(where: { _ in true }) else { throw StoreError.notFound("--action: no action \(id)") }
            guard kind == subject.kind.rawValue, key == subject.key else { throw StoreError.invalidInput("--action: action \(id) is about \(kind):\(key), not \(subject)") }
            guard status != "done", status != "cancelled" else { throw StoreError.invalidInput("--action: action \(id) is \(status); there is nothing to accept") }
            action = id
            band = Band(rawValue: b) ?? .critical
        }
        guard until > asOf else { throw StoreError.invalidInput("--until: \(Timestamps.formatDay(until)) is not in the future") }
        let latest = policy.latestAcceptance(band, from: asOf)
        guard until <= latest else {
            throw StoreError.invalidInput(
                "--until: a \(band.rawValue) risk may be accepted for at most \(policy.acceptanceMaxDays[band] ?? 0) days, until \(Timestamps.formatDay(latest)) at the latest (Controls/remediation.yaml acceptance_max_days)"
            )
        }
        return try await db.transaction { tx in
            // The same acceptance twice (a retried request, a double click) is one acceptance:
            // concurrent ones take turns here, and the later finds the first and answers with it.
            let what = control ?? "action #\(action ?? 0)"
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended(\("acceptance \(subject) \(what)"), 0))", logger: db.logger)
            if let (id, created) = try await tx.query(
                """
                SELECT id, created_at FROM risk_acceptances
                WHERE subject_kind = \(subject.kind.rawValue) AND subject_key = \(subject.key)
                  AND control_id IS NOT DISTINCT FROM \(control) AND action_id IS NOT DISTINCT FROM \(action)
                  AND accepted_until = \(until) AND approved_by = \(by) AND reason = \(reason)
                ORDER BY id LIMIT 1
                """, logger: db.logger
            ).decode((Int, Date).self).first(where: { _ in true }) {
                return Accepted(id: id, subject: subject, control: control, action: action, band: band, until: until, by: by, reason: reason, created: created)
            }
            guard
                let (id, created) = try await tx.query(
                    """
                    INSERT INTO risk_acceptances (subject_kind, subject_key, control_id, action_id, band, accepted_until, approved_by, reason)
                    VALUES (\(subject.kind.rawValue), \(subject.key), \(control), \(action), \(band.rawValue), \(until), \(by), \(reason))
                    RETURNING id, created_at
                    """, logger: db.logger
                ).decode((Int, Date).self).first(where: { _ in true })
            else { throw StoreError.invalidInput("the acceptance was not stored") }
            try await AuditLog.record(
                actor: actor, action: "risk.accept", target: subject.description,
                detail: ["acceptance": String(id), "of": what, "until": Timestamps.format(until), "by": by, "band": band.rawValue],
                on: tx, logger: db.logger)
            return Accepted(id: id, subject: subject, control: control, action: action, band: band, until: until, by: by, reason: reason, created: created)
        }
    }

    /// The subject's worst band in the current run: a credential's own, or the worst among the
    /// credentials a model, dataset or agent reaches (low when it reaches none or nothing is scored).
    func worstBand(of subject: Subject) async throws -> Band {
        guard let run = try await ScoreRuns(db).latestRunID() else { return .low }
        let ids: [Int]
        if subject.kind == .credential {
            var found: [Int] = []
            for try await id in try await db.client.query("SELECT id FROM credentials WHERE key = \(subject.key)", logger: db.logger).decode(Int.self) { found.append(id) }
            ids = found
        } else {
            ids = try await ScoringInputLoader(db).downstream(of: subject).credentials
        }
        var binds = PostgresBindings()
        binds.append(ids)
        let sql = PostgresQuery(unsafeSQL: "SELECT DISTINCT band FROM \(try await ScoreRuns(db).rows(of: run)) s WHERE s.credential_id = ANY($1)", binds: binds)
        var worst = Band.low
        for try await band in try await db.client.query(sql, logger: db.logger).decode(String.self) { worst = max(worst, Band(rawValue: band) ?? .low) }
        return worst
    }

    /// The acceptances standing at `asOf`.
    public func standing(asOf: Date) async throws -> [Accepted] {
        var out: [Accepted] = []
        for try await (id, kind, key, control, action, band, until, by, reason, created) in try await db.client.query(
            """
            SELECT id, subject_kind, subject_key, control_id, action_id, band, accepted_until, approved_by, reason, created_at
            FROM risk_acceptances WHERE created_at <= \(asOf) AND accepted_until > \(asOf) ORDER BY accepted_until, id
            """, logger: db.logger
        ).decode((Int, String, String, String?, Int?, String, Date, String, String, Date).self) {
            guard let k = SubjectKind(rawValue: kind) else { continue }
            out.append(
                Accepted(
                    id: id, subject: Subject(kind: k, key: key), control: control, action: action, band: Band(rawValue: band) ?? .critical,
                    until: until, by: by, reason: reason, created: created))
        }
        return out
    }
}
