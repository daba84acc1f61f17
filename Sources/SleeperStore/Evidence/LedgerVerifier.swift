import Foundation
import PostgresNIO
import SleeperCore

/// Checks the evidence ledger and the audit log before anything is reported, exported or signed
/// over them, and for `sleeper verify`.
///
/// What is checked: the append-only triggers are in place and enabled; every stored time is the
/// whole second its record's hash covers; every record's artifacts are in canonical form; the
/// evidence chain from the last verified head (or from the start, in a full check); every record
/// an answer cites, re-hashed and checked against its successor's link; and, in a full check, the
/// audit log's chain. A check that passes moves the verified head forward.
public struct LedgerVerifier: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    public struct Outcome: Sendable {
        public var problems: [String] = []
        public var evidenceRecords = 0
        public var evidenceHead = EvidenceRecord.genesisHash
        public var auditEntries = 0
        public var full = false
        public var verified: Bool { problems.isEmpty }
    }

    static let triggers = [("evidence", "evidence_append_only"), ("evidence", "evidence_no_truncate"),
                           ("audit_log", "audit_log_append_only"), ("audit_log", "audit_log_no_truncate"), ("audit_log", "audit_log_chain")]

    /// Runs the checks; `full` re-hashes both whole chains, otherwise only what was added since
    /// the last verified head, plus the `cited` evidence records.
    public func verify(full: Bool, cited: [Int] = []) async throws -> Outcome {
        var out = Outcome(full: full)
        out.problems += try await triggerProblems()
        out.problems += try await storedFormProblems()
        let checkpoint = full ? nil : try await checkpoint("evidence")
        let records = try await EvidenceLedger(db).all(after: checkpoint?.through)
        if let checkpoint, let problem = try await checkpointProblem(checkpoint) { out.problems.append(problem) }
        if let broken = EvidenceChain.verify(records, after: checkpoint?.through ?? 0, afterHash: checkpoint?.head ?? EvidenceRecord.genesisHash) {
            out.problems.append(broken.description)
        }
        out.problems += try await citedProblems(cited.filter { $0 <= (checkpoint?.through ?? 0) })
        out.evidenceHead = records.last?.hash ?? checkpoint?.head ?? EvidenceRecord.genesisHash
        out.evidenceRecords = (records.last?.id ?? checkpoint?.through ?? 0)
        if full {
            let (entries, problem) = try await auditChain()
            out.auditEntries = entries
            if let problem { out.problems.append(problem) }
        }
        if out.verified, out.evidenceRecords > 0 {
            try await db.client.query("""
                INSERT INTO ledger_checkpoints (ledger, verified_through, head) VALUES ('evidence', \(out.evidenceRecords), \(out.evidenceHead))
                ON CONFLICT (ledger) DO UPDATE SET verified_through = excluded.verified_through, head = excluded.head, verified_at = now()
                """, logger: db.logger)
        }
        return out
    }

    /// Throws `StoreError.unverifiedLedger` unless the ledgers verify (the incremental check).
    public func require(cited: [Int]) async throws {
        let outcome = try await verify(full: false, cited: cited)
        if !outcome.verified { throw StoreError.unverifiedLedger(outcome.problems) }
    }

    /// The append-only and chaining triggers of the evidence ledger and the audit log that are missing or disabled.
    public func triggerProblems() async throws -> [String] {
        var found: [String: String] = [:]
        for try await (table, name, enabled) in try await db.client.query("""
            SELECT c.relname::text, t.tgname::text, t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relname IN ('evidence', 'audit_log') AND NOT t.tgisinternal
            """, logger: db.logger).decode((String, String, String).self) { found["\(table).\(name)"] = enabled }
        return Self.triggers.compactMap { table, name in
            switch found["\(table).\(name)"] {
            case nil: return "the trigger \(name) on \(table) is missing: the table is no longer append-only"
            case "D"?: return "the trigger \(name) on \(table) is disabled: the table is no longer append-only"
            default: return nil
            }
        }
    }

    /// Times the hash covers only as whole seconds, and artifacts with extra or malformed members,
    /// would pass a re-hash of the decoded record: they are looked for in the stored rows.
    func storedFormProblems() async throws -> [String] {
        var out: [String] = []
        for try await (id, what) in try await db.client.query("""
            SELECT id, 'a stored time is not the whole second its hash covers (changed after it was recorded)' FROM evidence
            WHERE extract(epoch FROM effective_at) <> floor(extract(epoch FROM effective_at))
               OR extract(epoch FROM expires_at) <> floor(extract(epoch FROM expires_at))
               OR extract(epoch FROM recorded_at) <> floor(extract(epoch FROM recorded_at))
            UNION ALL
            SELECT id, 'its artifacts are not in canonical form ({name, sha256, size} and nothing else)' FROM evidence e
            WHERE jsonb_typeof(e.artifacts) <> 'array'
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.artifacts) = 'array' THEN e.artifacts ELSE '[]' END) a
                          WHERE jsonb_typeof(a) <> 'object'
                             OR (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(a) k) IS DISTINCT FROM ARRAY['name', 'sha256', 'size']
                             OR jsonb_typeof(a -> 'name') <> 'string' OR jsonb_typeof(a -> 'sha256') <> 'string'
                             OR jsonb_typeof(a -> 'size') <> 'number')
            ORDER BY 1 LIMIT 20
            """, logger: db.logger).decode((Int, String).self) { out.append("evidence record \(id): \(what)") }
        return out
    }

    struct Checkpoint { var through: Int; var head: String }

    func checkpoint(_ ledger: String) async throws -> Checkpoint? {
        for try await (through, head) in try await db.client.query(
            "SELECT verified_through, head FROM ledger_checkpoints WHERE ledger = \(ledger)", logger: db.logger).decode((Int, String).self) {
            return Checkpoint(through: through, head: head)
        }
        return nil
    }

    /// The record at the verified head must still carry the head's hash.
    func checkpointProblem(_ c: Checkpoint) async throws -> String? {
        for try await hash in try await db.client.query("SELECT hash FROM evidence WHERE id = \(c.through)", logger: db.logger).decode(String.self) {
            return hash == c.head ? nil : "evidence record \(c.through): its hash changed since it was verified"
        }
        return "evidence record \(c.through): verified earlier, now missing"
    }

    /// Cited records behind the verified head: each re-hashed, and its successor must link to it.
    func citedProblems(_ ids: [Int]) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        let records = try await EvidenceLedger(db).all(ids: ids)
        var out = records.filter { $0.hash != $0.computedHash }
            .map { "evidence record \($0.id): its content does not match its hash (edited after it was recorded)" }
        let hashes = Dictionary(uniqueKeysWithValues: records.map { ($0.id + 1, $0.hash) })
        for try await (id, prev) in try await db.client.query(
            "SELECT id, prev_hash FROM evidence WHERE id = ANY(\(Array(hashes.keys)))", logger: db.logger).decode((Int, String).self)
        where hashes[id] != prev {
            out.append("evidence record \(id): does not follow record \(id - 1) (a record before it was changed)")
        }
        return out
    }

    /// The audit log's chain, recomputed in the database; the first entry that does not fit.
    func auditChain() async throws -> (Int, String?) {
        var count = 0
        for try await n in try await db.client.query("SELECT count(*)::int FROM audit_log", logger: db.logger).decode(Int.self) { count = n }
        for try await (seq, reason) in try await db.client.query("""
            SELECT seq, reason FROM (
                SELECT seq,
                       CASE WHEN seq <> row_number() OVER w THEN 'is missing or out of order'
                            WHEN prev_hash <> coalesce(lag(hash) OVER w, repeat('0', 64)) THEN 'does not follow the entry before it'
                            WHEN hash <> audit_hash(seq, at, actor, action, target, detail, prev_hash) THEN 'its content does not match its hash (edited after it was recorded)'
                       END AS reason
                FROM audit_log WINDOW w AS (ORDER BY seq)) x
            WHERE reason IS NOT NULL ORDER BY seq LIMIT 1
            """, logger: db.logger).decode((Int, String).self) {
            return (count, "audit entry \(seq): \(reason)")
        }
        return (count, nil)
    }
}
