import Foundation
import PostgresNIO
import SleeperCore

/// Gaps and coverage, answered from the ledger as it stood at a given time.
public struct EvidenceQueries: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public typealias Gap = ControlStatus

    /// `limit` and `offset` page the rows in their order (subject, then control) in the query itself.
    public func gaps(
        asOf: Date, framework: String? = nil, subject: Subject? = nil, owner: String? = nil,
        basis: EvidenceBasis = .recorded, limit: Int? = nil, offset: Int = 0
    ) async throws -> [Gap] {
        try await statuses(
            asOf: asOf, framework: framework, subject: subject, owner: owner, includeValid: false, basis: basis,
            limit: limit, offset: offset)
    }

    /// Every subject × applicable control with its status; `includeValid: false` gives the gaps.
    public func statuses(
        asOf: Date, framework: String? = nil, subject: Subject? = nil, owner: String? = nil,
        includeValid: Bool = true, basis: EvidenceBasis = .recorded, limit: Int? = nil, offset: Int = 0,
        onlyRecordedAndFirst sampled: Int? = nil
    ) async throws -> [ControlStatus] {
        // `sampled`: only subjects something is recorded of, and that many more of each kind.
        let subjects = sampled.map { EvidenceStatusSQL.recordedSubjects(sampled: $0) } ?? EvidenceStatusSQL.allSubjects
        let kind = subject?.kind.rawValue, key = subject?.key
        let sql: SQLFragment = """
            WITH \(EvidenceStatusSQL.statusCTE(subjects: subjects, asOf: asOf, basis: basis))
            SELECT st.kind, st.key, st.owner, st.control_id, st.status, st.evidence_id, st.expires_at, acc.accepted_until, acc.approved_by,
                   CASE WHEN st.status = 'failed' THEN (SELECT e.covered_files FROM evidence e WHERE e.id = st.evidence_id) ELSE '{}' END
            FROM status st
            LEFT JOIN LATERAL (SELECT r.accepted_until, r.approved_by FROM risk_acceptances r
                               WHERE r.subject_kind = st.kind AND r.subject_key = st.key AND r.control_id = st.control_id
                                 AND r.created_at <= \(asOf) AND r.accepted_until > \(asOf)
                               ORDER BY r.accepted_until DESC LIMIT 1) acc ON st.status <> 'valid'
            WHERE (st.status <> 'valid' OR \(includeValid))
              AND (\(framework)::text IS NULL OR EXISTS (SELECT 1 FROM control_mappings m WHERE m.control_id = st.control_id AND m.framework_id = \(framework)))
              AND (\(kind)::text IS NULL OR (st.kind = \(kind) AND st.key = \(key)))
              AND (\(owner)::text IS NULL OR st.owner = \(owner))
            ORDER BY st.kind, st.key, st.position
            LIMIT \(limit.map { Int64(max(0, $0)) }) OFFSET \(Int64(max(0, offset)))
            """
        // Names and framework items are per control: read once, shared by every row (at 1M
        // credentials a per-row array of items cost gigabytes).
        let controls = try await controlItems(framework: framework)
        var out: [ControlStatus] = []
        for try await (kind, key, owner, control, status, evidence, expires, acceptedUntil, acceptedBy, files) in try await db.client.query(sql.query, logger: db.logger)
            .decode((SubjectKind, String, String?, String, EvidenceStatus, Int?, Date?, Date?, String?, [String]).self)
        {
            let c = controls[control]
            var row = ControlStatus(
                subject: Subject(kind: kind, key: key), owner: owner, control: control, controlName: c?.name ?? control,
                status: acceptedUntil == nil ? status : .accepted, evidenceID: evidence, expiresAt: expires, items: c?.items ?? [])
            row.acceptedUntil = acceptedUntil
            row.acceptedBy = acceptedBy
            row.failedFiles = files
            out.append(row)
        }
        return out
    }

    /// Each control's name and the framework items it maps to (as `framework:item`, in catalog order).
    func controlItems(framework: String?) async throws -> [String: (name: String, items: [String])] {
        var out: [String: (name: String, items: [String])] = [:]
        for try await (id, name, items) in try await db.client.query(
            """
            SELECT c.id, c.name,
                   coalesce((SELECT array_agg(m.framework_id || ':' || m.item_id ORDER BY m.framework_id, i.position)
                             FROM control_mappings m JOIN framework_items i ON i.framework_id = m.framework_id AND i.id = m.item_id
                             WHERE m.control_id = c.id AND (\(framework)::text IS NULL OR m.framework_id = \(framework))), '{}')
            FROM controls c
            """, logger: db.logger
        ).decode((String, String, [String]).self) {
            out[id] = (name, items)
        }
        return out
    }

    public typealias Coverage = ItemCoverage

    /// For each item of a framework: the subjects some mapped control applies to, and how many of
    /// them have valid evidence of at least one mapped control. An alias counts through its
    /// targets. The review report's own computation (the counted snapshot), so that the two never
    /// disagree; over a ledger that does not verify it refuses, as the report does.
    public func coverage(framework: String, asOf: Date, basis: EvidenceBasis = .recorded) async throws -> [Coverage] {
        let snapshot = try await ComplianceSnapshotLoader(db).load(asOf: asOf, basis: basis, countingUnrecorded: true, withExposures: false)
        guard let f = snapshot.catalog.frameworks.first(where: { $0.id == framework }) else { return [] }
        return snapshot.coverage(framework: f)
    }
}
