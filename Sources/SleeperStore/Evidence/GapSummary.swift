import Foundation
import PostgresNIO
import SleeperCore

extension EvidenceQueries {
    /// How many subjects have each kind of gap in each control: the answer `sleeper gaps` gives
    /// first. Only subjects with evidence or an accepted risk are judged one by one (the same
    /// status rules as every listing); every other subject lacks every control that applies to
    /// it, so its gaps are counted, not listed: a million credentials cost a count per table,
    /// not four million rows.
    /// `ARRAY['missing', 'failed', …]`: the gaps in their order, a constant made from the type.
    static let gapOrder = "ARRAY[" + EvidenceStatus.gaps.map { "'\($0.rawValue)'" }.joined(separator: ", ") + "]"

    public func gapSummary(asOf: Date, basis: EvidenceBasis = .recorded) async throws -> [GapCount] {
        let touchedSubjects = EvidenceStatusSQL.recordedSubjects()
        let sql: SQLFragment = """
            WITH \(EvidenceStatusSQL.statusCTE(subjects: touchedSubjects, asOf: asOf, basis: basis)),
            judged AS (
                SELECT st.control_id, CASE WHEN acc.accepted THEN 'accepted' ELSE st.status END AS status
                FROM status st
                LEFT JOIN LATERAL (SELECT true AS accepted FROM risk_acceptances r
                                   WHERE r.subject_kind = st.kind AND r.subject_key = st.key AND r.control_id = st.control_id
                                     AND r.created_at <= \(asOf) AND r.accepted_until > \(asOf)
                                   LIMIT 1) acc ON st.status <> 'valid'
                WHERE st.status <> 'valid'
            ),
            totals AS (
                SELECT 'model'::text AS kind, count(*) AS n FROM models
                UNION ALL SELECT 'dataset', count(*) FROM datasets
                UNION ALL SELECT 'agent', count(*) FROM agents
                UNION ALL SELECT 'credential', count(*) FROM credentials
            ),
            touched AS (SELECT kind, count(*) AS n FROM subjects GROUP BY kind),
            untouched AS (
                SELECT c.id AS control_id, 'missing'::text AS status, sum(t.n - coalesce(u.n, 0)) AS n
                FROM controls c
                JOIN totals t ON t.kind = ANY (c.applies_to)
                LEFT JOIN touched u ON u.kind = t.kind
                GROUP BY c.id
            )
            SELECT c.id, c.name, x.status, sum(x.n)::int8
            FROM (SELECT control_id, status, count(*) AS n FROM judged GROUP BY 1, 2
                  UNION ALL SELECT control_id, status, n FROM untouched) x
            JOIN controls c ON c.id = x.control_id
            GROUP BY c.id, c.name, c.position, x.status
            HAVING sum(x.n) > 0
            ORDER BY c.position, array_position(\(constant: Self.gapOrder), x.status)
            """
        var out: [GapCount] = []
        let items = try await controlItems(framework: nil)
        for try await (control, name, status, count) in try await db.client.query(sql.query, logger: db.logger).decode((String, String, EvidenceStatus, Int).self) {
            out.append(GapCount(control: control, name: name, status: status, subjects: count, items: items[control]?.items ?? []))
        }
        return out
    }
}
