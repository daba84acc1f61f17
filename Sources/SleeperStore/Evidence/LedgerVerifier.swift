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
        /// The audit log's last entry's hash (print it, keep it elsewhere, check it with `--expect-audit-head`).
        public var auditHead = EvidenceRecord.genesisHash
        /// Problems that are only the verified heads no longer matching (a shrink or re-hash
        /// behind a checkpoint): an admin may acknowledge them, audited.
        public var checkpointProblems: [String] = []
        public var verified: Bool { problems.isEmpty }
    }

    static let triggers = [
        ("evidence", "evidence_append_only"), ("evidence", "evidence_no_truncate"),
        ("audit_log", "audit_log_append_only"), ("audit_log", "audit_log_no_truncate"), ("audit_log", "audit_log_chain"),
    ]

    /// Runs the checks. Both chains are always checked whole: the evidence ledger re-hashed record
    /// by record with every link and id (a check of only what came after the last verified head
    /// missed a deleted or flipped record behind it, and documents were signed over it); the
    /// audit log recomputed in the database, whose hash function's source is checked first.
    /// A verified head never moves backwards: a ledger that shrank or was re-hashed behind it is
    /// an error until an admin acknowledges it (`acknowledge`).
    public func verify() async throws -> Outcome {
        var out = Outcome()
        out.problems += try await triggerProblems()
        out.problems += try await functionProblems()
        out.problems += try await storedFormProblems()
        let records = try await EvidenceLedger(db).all(after: nil)
        if let broken = EvidenceChain.verify(records, after: 0, afterHash: EvidenceRecord.genesisHash) {
            out.problems.append(broken.description)
        }
        out.evidenceHead = records.last?.hash ?? EvidenceRecord.genesisHash
        out.evidenceRecords = records.last?.id ?? 0
        if let checkpoint = try await checkpoint("evidence"), let problem = try await checkpointProblem(checkpoint) {
            out.checkpointProblems.append(problem)
        }
        let (entries, head, problem) = try await auditChain()
        out.auditEntries = entries
        out.auditHead = head
        if let problem { out.problems.append(problem) }
        if let checkpoint = try await checkpoint("audit"), let problem = try await auditCheckpointProblem(checkpoint) {
            out.checkpointProblems.append(problem)
        }
        out.problems += out.checkpointProblems
        if out.verified { try await moveCheckpoints(out) }
        return out
    }

    /// Whether the chain still passes through a head kept elsewhere ("ID:HASH"): the record (or
    /// audit entry) with that id must still carry that hash.
    public func expectHead(_ kept: String, audit: Bool) async throws -> String? {
        let parts = kept.split(separator: ":")
        guard parts.count == 2, let id = Int(parts[0]), parts[1].count == 64 else {
            throw StoreError.invalidInput("--expect-\(audit ? "audit-" : "")head: give ID:HASH as `sleeper verify` printed it, got '\(kept)'")
        }
        let sql: PostgresQuery = audit ? "SELECT hash FROM audit_log WHERE seq = \(id)" : "SELECT hash FROM evidence WHERE id = \(id)"
        let what = audit ? "audit entry" : "evidence record"
        for try await hash in try await db.client.query(sql, logger: db.logger).decode(String?.self) {
            return hash == String(parts[1]) ? nil : "\(what) \(id) does not carry the kept head \(parts[1]): the chain was rewritten since"
        }
        return "\(what) \(id), the kept head, is missing: the chain shrank since"
    }

    /// Records the heads as verified; never backwards (a later head only).
    func moveCheckpoints(_ out: Outcome) async throws {
        for (ledger, through, head) in [("evidence", out.evidenceRecords, out.evidenceHead), ("audit", out.auditEntries, out.auditHead)] where through > 0 {
            try await db.client.query(
                """
                INSERT INTO ledger_checkpoints (ledger, verified_through, head) VALUES (\(ledger), \(through), \(head))
                ON CONFLICT (ledger) DO UPDATE SET verified_through = excluded.verified_through, head = excluded.head, verified_at = now()
                WHERE ledger_checkpoints.verified_through <= excluded.verified_through
                """, logger: db.logger)
        }
    }

    /// An admin's acknowledgement that the ledgers were rewritten behind their verified heads: the
    /// chains must verify on their own, and the heads are then reset to what is there now, with
    /// an audit entry naming the old and new heads and the reason.
    public func acknowledge(reason: String, actor: String) async throws -> Outcome {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw StoreError.invalidInput("--acknowledge: say why the ledgers were rewritten") }
        try FreeText.require(reason, "--acknowledge", max: FreeText.reason)
        let out = try await verify()
        let others = out.problems.filter { !out.checkpointProblems.contains($0) }
        guard others.isEmpty else { throw StoreError.unverifiedLedger(others) }
        guard !out.checkpointProblems.isEmpty else { return out }
        let old = try await checkpoint("evidence"), oldAudit = try await checkpoint("audit")
        try await db.transaction { tx in
            try await AuditLog.record(
                actor: actor, action: "ledger.acknowledge", target: "ledger_checkpoints",
                detail: [
                    "reason": reason, "problems": out.checkpointProblems.joined(separator: "; "),
                    "evidence_was": old.map { "#\($0.through) \($0.head)" } ?? "", "evidence_now": "#\(out.evidenceRecords) \(out.evidenceHead)",
                    "audit_was": oldAudit.map { "#\($0.through) \($0.head)" } ?? "",
                ], on: tx, logger: db.logger)
            try await tx.query("DELETE FROM ledger_checkpoints", logger: db.logger)
        }
        var again = try await verify()
        again.checkpointProblems = out.checkpointProblems
        return again
    }

    /// The append-only and chaining triggers of the evidence ledger and the audit log that are missing or disabled.
    public func triggerProblems() async throws -> [String] {
        var found: [String: String] = [:]
        for try await (table, name, enabled) in try await db.client.query(
            """
            SELECT c.relname::text, t.tgname::text, t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relname IN ('evidence', 'audit_log') AND NOT t.tgisinternal
            """, logger: db.logger
        ).decode((String, String, String).self) { found["\(table).\(name)"] = enabled }
        return Self.triggers.compactMap { table, name in
            switch found["\(table).\(name)"] {
            case nil: return "the trigger \(name) on \(table) is missing: the table is no longer append-only"
            case "D"?: return "the trigger \(name) on \(table) is disabled: the table is no longer append-only"
            default: return nil
            }
        }
    }

    /// The functions the append-only and chaining triggers run, and the audit hash: each one's
    /// source must be what the migrations declare (a trigger left in place over a function
    /// replaced by a no-op protects nothing), and each trigger must run its own function.
    public func functionProblems() async throws -> [String] {
        let expected = Self.declaredFunctions()
        var found: [String: String] = [:]
        for try await (name, source) in try await db.client.query(
            """
            SELECT p.proname::text, p.prosrc FROM pg_proc p WHERE p.proname = ANY(\(Array(expected.keys)))
              AND p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
            """, logger: db.logger
        ).decode((String, String).self) { found[name] = source }
        var out: [String] = []
        for name in expected.keys.sorted() {
            guard let source = found[name] else { out.append("the function \(name) is missing"); continue }
            if source != expected[name] { out.append("the function \(name) is not what the migrations declare (its source was replaced)") }
        }
        for try await (table, trigger, function) in try await db.client.query(
            """
            SELECT c.relname::text, t.tgname::text, p.proname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE c.relname IN ('evidence', 'audit_log') AND NOT t.tgisinternal
            """, logger: db.logger
        ).decode((String, String, String).self) {
            if let want = Self.triggerFunctions[trigger], want != function {
                out.append("the trigger \(trigger) on \(table) runs \(function), not \(want)")
            }
        }
        return out
    }

    static let triggerFunctions = [
        "evidence_append_only": "refuse_evidence_change", "evidence_no_truncate": "refuse_evidence_change",
        "audit_log_append_only": "refuse_audit_change", "audit_log_no_truncate": "refuse_audit_change",
        "audit_log_chain": "chain_audit_entry",
    ]

    /// The source (between the `$$`) of the guarding functions, as the last migration that
    /// creates each declares it: read from the migrations this binary carries.
    public static func declaredFunctions() -> [String: String] {
        let wanted = Set(triggerFunctions.values).union(["audit_hash"])
        var out: [String: String] = [:]
        for (name, data) in BundledFiles.all.filter({ $0.key.hasPrefix("Migrations/") }).sorted(by: { $0.key < $1.key }) {
            _ = name
            let text = String(decoding: data, as: UTF8.self)
            for match in text.matches(of: /CREATE (?:OR REPLACE )?FUNCTION (\w+)\([^$]*?\$\$(.*?)\$\$/.dotMatchesNewlines()) {
                let function = String(match.1)
                if wanted.contains(function) { out[function] = String(match.2) }
            }
        }
        return out
    }

    /// Times the hash covers only as whole seconds, and artifacts with extra or malformed members,
    /// would pass a re-hash of the decoded record: they are looked for in the stored rows.
    func storedFormProblems() async throws -> [String] {
        var out: [String] = []
        for try await (id, what) in try await db.client.query(
            """
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
            """, logger: db.logger
        ).decode((Int, String).self) { out.append("evidence record \(id): \(what)") }
        return out
    }

    struct Checkpoint { var through: Int; var head: String }

    func checkpoint(_ ledger: String) async throws -> Checkpoint? {
        for try await (through, head) in try await db.client.query(
            "SELECT verified_through, head FROM ledger_checkpoints WHERE ledger = \(ledger)", logger: db.logger
        ).decode((Int, String).self) {
            return Checkpoint(through: through, head: head)
        }
        return nil
    }

    /// The record at the verified head must still carry the head's hash.
    func checkpointProblem(_ c: Checkpoint) async throws -> String? {
        for try await hash in try await db.client.query("SELECT hash FROM evidence WHERE id = \(c.through)", logger: db.logger).decode(String.self) {
            return hash == c.head ? nil : "evidence record \(c.through): its hash changed since it was verified (the chain was re-hashed)"
        }
        return "evidence record \(c.through): verified earlier, now missing (the ledger shrank)"
    }

    /// The audit entry at the verified head must still carry the head's hash.
    func auditCheckpointProblem(_ c: Checkpoint) async throws -> String? {
        for try await hash in try await db.client.query("SELECT hash FROM audit_log WHERE seq = \(c.through)", logger: db.logger).decode(String?.self) {
            return hash == c.head ? nil : "audit entry \(c.through): its hash changed since it was verified (the log was re-chained)"
        }
        return "audit entry \(c.through): verified earlier, now missing (the log shrank)"
    }

    /// The audit log's chain, recomputed in the database; the first entry that does not fit.
    func auditChain() async throws -> (Int, String, String?) {
        var count = 0, head = EvidenceRecord.genesisHash
        for try await (n, h) in try await db.client.query(
            """
            SELECT count(*)::int, (SELECT hash FROM audit_log ORDER BY seq DESC NULLS LAST LIMIT 1) FROM audit_log
            """, logger: db.logger
        ).decode((Int, String?).self) { count = n; head = h ?? head }
        for try await (seq, reason) in try await db.client.query(
            """
            SELECT seq, reason FROM (
                SELECT seq,
                       CASE WHEN seq <> row_number() OVER w THEN 'is missing or out of order'
                            WHEN prev_hash <> coalesce(lag(hash) OVER w, repeat('0', 64)) THEN 'does not follow the entry before it'
                            WHEN hash <> audit_hash(seq, at, actor, action, target, detail, prev_hash) THEN 'its content does not match its hash (edited after it was recorded)'
                       END AS reason
                FROM audit_log WINDOW w AS (ORDER BY seq)) x
            WHERE reason IS NOT NULL ORDER BY seq LIMIT 1
            """, logger: db.logger
        ).decode((Int, String).self) {
            return (count, head, "audit entry \(seq): \(reason)")
        }
        return (count, head, nil)
    }
}
