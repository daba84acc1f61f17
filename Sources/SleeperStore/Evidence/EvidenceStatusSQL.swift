import Foundation
import SleeperCore

/// The one query that decides, for every subject and every control that applies to it, whether
/// valid evidence stood at a given time. Gaps, coverage and (later) scoring all read from it, so
/// they cannot disagree. It binds the as-of time itself (`SQLFragment`).
///
/// A record counts at time T when it had been recorded by T, was effective by T, had not been
/// superseded by a record recorded by T, and is not itself a withdrawal. Of those, the latest
/// effective one per subject and control decides:
///   missing       no record counts
///   failed        the deciding record is a fail
///   expired-in-grace  T is past its expiry but within the control's grace period (it still
///                 counts partly in scores; it is a gap all the same)
///   expired       T is past expiry and grace
///   stale-digest  a model's evidence names a digest other than the one the model had at T
///   valid         otherwise (pass or not-applicable)
enum EvidenceStatusSQL {
    static let allSubjects: SQLFragment = """
        SELECT 'model'::text AS kind, key, owner FROM models
        UNION ALL SELECT 'dataset', key, owner FROM datasets
        UNION ALL SELECT 'agent', key, owner FROM agents
        UNION ALL SELECT 'credential', key, owner FROM credentials
        """

    /// The table each kind of subject lives in.
    static let subjectTables: [(kind: SubjectKind, table: String)] = [(.model, "models"), (.dataset, "datasets"), (.agent, "agents"), (.credential, "credentials")]

    /// The keys of the subjects of `kind` something is recorded of (evidence, an accepted risk).
    static func recorded(_ kind: SubjectKind) -> String {
        let aliased = kind == .model ? "\nUNION SELECT a.canonical FROM model_aliases a WHERE EXISTS (SELECT 1 FROM evidence e WHERE e.subject_kind = 'model' AND e.subject_key = a.alias)" : ""
        return """
            SELECT subject_key FROM evidence WHERE subject_kind = '\(kind.rawValue)'
            UNION SELECT subject_key FROM risk_acceptances WHERE subject_kind = '\(kind.rawValue)'\(aliased)
            """
    }

    /// Subjects something is recorded of (evidence, an accepted risk), and `sampled` more of
    /// each kind in key order: everything a summary cannot count without looking.
    static func recordedSubjects(sampled: Int = 0) -> SQLFragment {
        "\(constant: recordedSubjectsText(sampled: sampled))"
    }

    private static func recordedSubjectsText(sampled: Int) -> String {
        subjectTables.map { kind, table in
            let recorded = recorded(kind)
            var sql = "SELECT '\(kind.rawValue)'::text AS kind, t.key, t.owner FROM \(table) t WHERE t.key IN (\(recorded))"
            if sampled > 0 {
                sql += "\nUNION ALL (SELECT '\(kind.rawValue)'::text, t.key, t.owner FROM \(table) t WHERE t.key NOT IN (\(recorded)) ORDER BY t.key LIMIT \(sampled))"
            }
            return sql
        }.joined(separator: "\nUNION ALL ")
    }

    /// The same rules over fewer subjects (`subjects` yields kind, key, owner): scoring asks only
    /// about models and agents, and a rescore about a few thousand of them. With the `effective`
    /// basis a record counts whenever it was recorded, corrections recorded since apply, and a
    /// model with no digest observed by T is judged by the first digest Sleeper saw.
    static func statusCTE(subjects: SQLFragment, asOf: Date, basis: EvidenceBasis = .recorded) -> SQLFragment {
        let recordedBy = basis == .recorded ? "e.recorded_at <= $1 AND " : ""
        let supersededBy = basis == .recorded ? " AND s.recorded_at <= $1" : ""
        let digestWindow = basis == .recorded ? "WHERE observed_at <= $1" : ""
        let digestOrder = basis == .recorded ? "observed_at DESC" : "(observed_at <= $1) DESC, CASE WHEN observed_at <= $1 THEN observed_at END DESC, observed_at"
        // The rules below are written whole, with $1 the as-of time.
        let rules = """
            digest_at AS (
                SELECT DISTINCT ON (model_key) model_key, digest
                FROM model_digests \(digestWindow)
                ORDER BY model_key, \(digestOrder)
            ),
            latest_by_key AS (
                SELECT DISTINCT ON (e.subject_kind, e.subject_key, e.control_id) e.*
                FROM evidence e
                WHERE \(recordedBy)e.effective_at <= $1 AND e.result <> 'withdrawn'
                  AND NOT EXISTS (SELECT 1 FROM evidence s WHERE s.supersedes = e.id\(supersededBy))
                ORDER BY e.subject_kind, e.subject_key, e.control_id, e.effective_at DESC, e.id DESC
            ),
            -- Model records for which the latest is not simply the last word, decided apart (they are
            -- few, and the common case keeps one pass over the ledger):
            -- * a record that names a model's files is the last word on those files only: a fail on a
            --   file stands until a later record covers that file (or one about the whole model,
            --   naming none, comes after it), whatever the latest record says, on the same bytes;
            -- * evidence recorded of a model under another of its keys (model_aliases) counts for it:
            --   of its records under all its keys, the latest effective decides.
            special AS (
                SELECT DISTINCT e.subject_key, e.control_id FROM evidence e
                WHERE e.subject_kind = 'model'
                  AND (e.covered_files <> '{}' OR EXISTS (SELECT 1 FROM model_aliases a WHERE a.alias = e.subject_key OR a.canonical = e.subject_key))
            ),
            special_records AS (
                SELECT e.*, coalesce(a.canonical, e.subject_key) AS key_now
                FROM evidence e LEFT JOIN model_aliases a ON a.alias = e.subject_key
                WHERE e.subject_kind = 'model' AND (e.subject_key, e.control_id) IN (SELECT subject_key, control_id FROM special)
                  AND \(recordedBy)e.effective_at <= $1 AND e.result <> 'withdrawn'
                  AND NOT EXISTS (SELECT 1 FROM evidence s WHERE s.supersedes = e.id\(supersededBy))
            ),
            special_latest AS (
                SELECT DISTINCT ON (r.key_now, r.control_id) r.* FROM special_records r
                ORDER BY r.key_now, r.control_id, r.effective_at DESC, r.id DESC
            ),
            last_word_on_file AS (
                SELECT DISTINCT ON (r.key_now, r.control_id, f.file) r.id, r.key_now, r.control_id, r.result, r.effective_at, r.subject_digest
                FROM special_records r CROSS JOIN LATERAL unnest(r.covered_files) AS f(file)
                ORDER BY r.key_now, r.control_id, f.file, r.effective_at DESC, r.id DESC
            ),
            standing_file_fail AS (
                SELECT DISTINCT ON (w.key_now, w.control_id) w.id, w.key_now, w.control_id
                FROM last_word_on_file w JOIN special_latest l ON l.key_now = w.key_now AND l.control_id = w.control_id
                WHERE w.result = 'fail' AND l.result <> 'fail' AND l.covered_files <> '{}'
                  AND w.subject_digest IS NOT DISTINCT FROM l.subject_digest
                  AND NOT EXISTS (SELECT 1 FROM special_records x WHERE x.key_now = w.key_now AND x.control_id = w.control_id
                                    AND x.covered_files = '{}' AND (x.effective_at, x.id) > (w.effective_at, w.id))
                ORDER BY w.key_now, w.control_id, w.effective_at DESC, w.id DESC
            ),
            -- The latest record per subject and control, and apart from it the few special decisions
            -- (kept out of one UNION with it: the planner then sorted every status row, and a 100k
            -- gap summary took 2.4 s instead of 1.3 s).
            deciding AS (
                SELECT l.id, l.subject_kind, l.subject_key, l.control_id, l.result, l.effective_at, l.expires_at, l.subject_digest
                FROM latest_by_key l
            ),
            special_deciding AS (
                SELECT e.id, s.key_now AS subject_key, e.control_id, e.result, e.effective_at, e.expires_at, e.subject_digest
                FROM special_latest s
                JOIN evidence e ON e.id = coalesce((SELECT f.id FROM standing_file_fail f WHERE f.key_now = s.key_now AND f.control_id = s.control_id), s.id)
            ),
            status AS (
                SELECT s.kind, s.key, s.owner, c.id AS control_id, c.name AS control_name, c.position,
                       e.id AS evidence_id, e.result, e.expires_at, e.effective_at,
                       CASE
                           WHEN e.id IS NULL THEN 'missing'
                           WHEN e.result = 'fail' THEN 'failed'
                           WHEN e.expires_at <= $1 AND $1 < e.expires_at + c.grace_days * interval '1 day' THEN 'expired-in-grace'
                           WHEN e.expires_at <= $1 THEN 'expired'
                           WHEN s.kind = 'model' AND e.subject_digest IS DISTINCT FROM d.digest THEN 'stale-digest'
                           ELSE 'valid'
                       END AS status
                FROM subjects s
                JOIN controls c ON s.kind = ANY (c.applies_to)
                LEFT JOIN deciding e0 ON e0.subject_kind = s.kind AND e0.subject_key = s.key AND e0.control_id = c.id
                LEFT JOIN special_deciding x ON s.kind = 'model' AND x.subject_key = s.key AND x.control_id = c.id
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN x.id IS NOT NULL THEN x.id ELSE e0.id END AS id,
                           CASE WHEN x.id IS NOT NULL THEN x.result ELSE e0.result END AS result,
                           CASE WHEN x.id IS NOT NULL THEN x.expires_at ELSE e0.expires_at END AS expires_at,
                           CASE WHEN x.id IS NOT NULL THEN x.effective_at ELSE e0.effective_at END AS effective_at,
                           CASE WHEN x.id IS NOT NULL THEN x.subject_digest ELSE e0.subject_digest END AS subject_digest) e
                LEFT JOIN digest_at d ON s.kind = 'model' AND d.model_key = s.key
            )
            """
        return """
            subjects AS (
                \(subjects)
            ),
            \(SQLFragment(numbered: rules, binding: asOf))
            """
    }
}
