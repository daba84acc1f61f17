import Foundation
import Logging
import PostgresNIO
import SleeperCore

/// Appends to the evidence ledger and reads it back. Appends are serialised by a table lock so
/// that ids run without gaps and each record can name its predecessor's hash.
public struct EvidenceLedger: Sendable {
    public let db: Database
    public init(_ db: Database) { self.db = db }

    /// Validates every draft against the catalog and the inventory, then appends them all in one
    /// transaction, or none. Throws `InventoryProblems` naming each bad draft.
    public func record(_ drafts: [EvidenceDraft], actor: String = AuditLog.commandLineActor) async throws -> [EvidenceRecord] {
        // Nothing to record writes nothing, not even an audit entry.
        guard !drafts.isEmpty else { throw StoreError.invalidInput("no evidence records to record") }
        let controls = Dictionary(uniqueKeysWithValues: try await CatalogQueries(db).controls().map { ($0.id, $0) })
        return try await db.transaction { tx in try await append(drafts, controls: controls, actor: actor, on: tx) }
    }

    /// The catalog's controls by id, for `append`.
    func controlsByID() async throws -> [String: Control] {
        Dictionary(uniqueKeysWithValues: try await CatalogQueries(db).controls().map { ($0.id, $0) })
    }

    /// The same append inside a transaction the caller holds, so that evidence commits with the
    /// change it is about (runtime findings and their evidence: both, or neither).
    func append(_ drafts: [EvidenceDraft], controls: [String: Control], actor: String, on tx: PostgresConnection) async throws -> [EvidenceRecord] {
        do {
            try await tx.query("LOCK TABLE evidence IN SHARE ROW EXCLUSIVE MODE", logger: db.logger)
            let now =
                try await tx.query("SELECT extract(epoch FROM date_trunc('second', now()))::int8", logger: db.logger)
                .decode(Int.self).first { _ in true } ?? 0
            var problems = drafts.flatMap { EvidenceValidator.check($0, controls: controls, now: Date(timeIntervalSince1970: TimeInterval(now))) }
            let known = try await existingSubjects(Set(drafts.map(\.subject)), on: tx)
            for draft in drafts where !known.keys.contains(draft.subject) {
                problems.append(
                    InventoryProblem(
                        file: draft.file, path: draft.path.isEmpty ? "subject" : "\(draft.path).subject",
                        message: "unknown subject '\(draft.subject)' (not in the inventory)"))
            }
            // Evidence about named bytes binds to the model only when they are the model's bytes.
            var digests: [Int: String?] = [:]
            for (i, draft) in drafts.enumerated() {
                let current = known[draft.subject] ?? nil
                digests[i] = current
                guard let bound = draft.boundDigest?.lowercased() else { continue }
                let field = draft.path.isEmpty ? "digest" : "\(draft.path).digest"
                if draft.subject.kind != .model {
                    problems.append(InventoryProblem(file: draft.file, path: field, message: "evidence binds to a digest only on a model, not a \(draft.subject.kind.rawValue)"))
                } else if current?.lowercased() != bound {
                    if draft.recordStale {
                        digests[i] = bound
                    } else {
                        let has = current.map { "has \($0)" } ?? "has no digest (import it first)"
                        problems.append(
                            InventoryProblem(
                                file: draft.file, path: field,
                                message:
                                    "the check was made on \(bound), but model '\(draft.subject.key)' \(has) in the inventory: evidence about other bytes is not bound to the model (record it as stale evidence to keep it)"
                            ))
                    }
                }
            }
            let superseded = try await supersedable(drafts.compactMap(\.supersedes), on: tx)
            var targeted: Set<Int> = []
            for draft in drafts {
                guard let target = draft.supersedes else { continue }
                let field = draft.path.isEmpty ? "supersedes" : "\(draft.path).supersedes"
                if let found = superseded[target] {
                    if found.subject != draft.subject || found.control != draft.control {
                        problems.append(
                            InventoryProblem(file: draft.file, path: field, message: "record \(target) is about \(found.subject) and \(found.control), not \(draft.subject) and \(draft.control)"))
                    } else if let by = found.supersededBy {
                        problems.append(InventoryProblem(file: draft.file, path: field, message: "record \(target) is already superseded by record \(by)"))
                    } else if !targeted.insert(target).inserted {
                        problems.append(InventoryProblem(file: draft.file, path: field, message: "record \(target) is superseded twice in this import"))
                    }
                } else {
                    problems.append(InventoryProblem(file: draft.file, path: field, message: "no evidence record \(target)"))
                }
            }
            if !problems.isEmpty { throw InventoryProblems(problems) }

            let (headID, headHash, lastRecorded) = try await head(on: tx)
            var (lastID, lastHash) = (headID, headHash)
            // Recorded times never run backwards along the chain, even if the server clock does.
            let recordedAt = max(now, lastRecorded)
            var records: [EvidenceRecord] = []
            for (i, draft) in drafts.enumerated() {
                guard let control = controls[draft.control] else { throw StoreError.invalidInput("unknown control '\(draft.control)'") }
                let effective = draft.effective ?? Date(timeIntervalSince1970: TimeInterval(recordedAt))
                let expires = draft.expires ?? EvidenceValidator.defaultExpiry(effective: effective, control: control)
                lastID += 1
                var record = EvidenceRecord(
                    id: lastID, subject: draft.subject, control: draft.control, result: draft.result,
                    effectiveAt: Int(effective.timeIntervalSince1970.rounded(.down)), expiresAt: Int(expires.timeIntervalSince1970.rounded(.down)),
                    recordedAt: recordedAt, subjectDigest: digests[i] ?? nil, artifacts: draft.artifacts, uri: draft.uri,
                    recordedBy: draft.recordedBy, note: draft.note, supersedes: draft.supersedes, prevHash: lastHash)
                record.coveredFiles = draft.coveredFiles
                record.hash = record.computedHash
                lastHash = record.hash
                records.append(record)
            }
            try await insert(records, on: tx)
            try await AuditLog.record(
                actor: actor, action: "evidence.record", target: records.map { "#\($0.id)" }.joined(separator: ","),
                detail: [
                    "records": String(records.count), "first": String(records.first?.id ?? 0), "last": String(records.last?.id ?? 0),
                    // Records effective more than a day before they were recorded fill in history.
                    "backfilled": String(records.filter { $0.effectiveAt < $0.recordedAt - 86400 }.count),
                    // Expiries allowed past twice the control's validity, by record.
                    "long_validity": zip(drafts, records).filter { $0.0.allowLongValidity && $0.0.expires != nil }
                        .filter { d, r in controls[r.control].map { r.expiresAt - r.effectiveAt > EvidenceValidator.longestValidity($0) * 86400 } ?? false }
                        .map { "#\($0.1.id)" }.joined(separator: ","),
                ],
                on: tx, logger: db.logger)
            return records
        }
    }

    /// The subjects that exist, with the model digest for model subjects.
    private func existingSubjects(_ subjects: Set<Subject>, on tx: PostgresConnection) async throws -> [Subject: String?] {
        var found: [Subject: String?] = [:]
        for (kind, group) in Dictionary(grouping: subjects, by: \.kind) {
            let table = EntityKind(subjects: kind).rawValue
            let digest = kind == .model ? "digest" : "NULL::text"
            let sql = PostgresQuery(
                unsafeSQL: "SELECT key, \(digest) FROM \(table) WHERE key = ANY($1)",
                binds: try {
                    var b = PostgresBindings(); b.append(group.map(\.key)); return b
                }())
            for try await (key, d) in try await tx.query(sql, logger: db.logger).decode((String, String?).self) {
                found[Subject(kind: kind, key: key)] = .some(d)
            }
        }
        return found
    }

    private struct Target { var subject: Subject; var control: String; var supersededBy: Int? }

    private func supersedable(_ ids: [Int], on tx: PostgresConnection) async throws -> [Int: Target] {
        guard !ids.isEmpty else { return [:] }
        var out: [Int: Target] = [:]
        for try await (id, kind, key, control, by) in try await tx.query(
            """
            SELECT e.id, e.subject_kind, e.subject_key, e.control_id, (SELECT min(s.id) FROM evidence s WHERE s.supersedes = e.id)
            FROM evidence e WHERE e.id = ANY(\(ids))
            """, logger: db.logger
        ).decode((Int, SubjectKind, String, String, Int?).self) {
            out[id] = Target(subject: Subject(kind: kind, key: key), control: control, supersededBy: by)
        }
        return out
    }

    private func head(on tx: PostgresConnection) async throws -> (Int, String, Int) {
        for try await row in try await tx.query(
            "SELECT id, hash, extract(epoch FROM recorded_at)::int8 FROM evidence ORDER BY id DESC LIMIT 1", logger: db.logger
        ).decode((Int, String, Int).self) { return row }
        return (0, EvidenceRecord.genesisHash, 0)
    }

    private func insert(_ r: [EvidenceRecord], on tx: PostgresConnection) async throws {
        let artifacts = r.map { record in
            "[" + record.artifacts.map { "{\"name\":\(JSONText.string($0.name)),\"sha256\":\"\($0.sha256)\",\"size\":\($0.size)}" }.joined(separator: ",") + "]"
        }
        try await tx.query(
            """
            INSERT INTO evidence (id, subject_kind, subject_key, control_id, result, effective_at, expires_at, recorded_at,
                                  subject_digest, artifacts, uri, recorded_by, note, supersedes, prev_hash, hash, covered_files)
            SELECT id, kind, key, control, result, to_timestamp(effective), to_timestamp(expires), to_timestamp(recorded),
                   nullif(digest, E'\\x01'), artifacts::jsonb, nullif(uri, E'\\x01'), nullif(by, E'\\x01'), nullif(note, E'\\x01'),
                   nullif(supersedes, 0), prev, hash, ARRAY(SELECT jsonb_array_elements_text(covered::jsonb))
            FROM unnest(\(r.map(\.id)), \(r.map(\.subject.kind.rawValue)), \(r.map(\.subject.key)), \(r.map(\.control)),
                        \(r.map(\.result.rawValue)), \(r.map(\.effectiveAt)), \(r.map(\.expiresAt)), \(r.map(\.recordedAt)),
                        \(r.map { $0.subjectDigest ?? "\u{1}" }), \(artifacts), \(r.map { $0.uri ?? "\u{1}" }),
                        \(r.map { $0.recordedBy ?? "\u{1}" }), \(r.map { $0.note ?? "\u{1}" }), \(r.map { $0.supersedes ?? 0 }),
                        \(r.map(\.prevHash)), \(r.map(\.hash)), \(r.map { "[" + $0.coveredFiles.map(JSONText.string).joined(separator: ",") + "]" }))
                 AS s (id, kind, key, control, result, effective, expires, recorded, digest, artifacts, uri, by, note, supersedes, prev, hash, covered)
            """, logger: db.logger)
    }

    /// `evidence list` and `GET /v1/evidence`: the records of a subject and control that exist;
    /// naming one that does not is refused with the nearest match, not answered "none".
    public func listed(subject: Subject?, control: String?, asOf: Date = SleeperClock.now()) async throws -> EvidenceListing.Listed {
        if let subject { try await ReferenceLookup(db).requireSubject(subject) }
        if let control { try await ReferenceLookup(db).requireControl(control) }
        let records = try await all(subject: subject, control: control)
        // The digest each model has now, to say whether a record is about its current bytes.
        let keys = Array(Set(records.filter { $0.subject.kind == .model }.map(\.subject.key)))
        var digests: [String: String] = [:]
        if !keys.isEmpty {
            for try await (key, digest) in try await db.client.query(
                """
                SELECT x.key, m.digest FROM unnest(\(keys)::text[]) AS x(key)
                LEFT JOIN model_aliases a ON a.alias = x.key
                JOIN models m ON m.key = coalesce(a.canonical, x.key)
                WHERE m.digest IS NOT NULL
                """, logger: db.logger
            ).decode((String, String).self) { digests[key] = digest }
        }
        return EvidenceListing.Listed(records: records, currentDigests: digests, asOf: asOf)
    }

    /// The whole ledger in chain order, as stored, for `sleeper verify` and listings; or the
    /// records that match the filters.
    public func all(subject: Subject? = nil, control: String? = nil, id: Int? = nil, ids: [Int]? = nil, after: Int? = nil) async throws -> [EvidenceRecord] {
        var records: [EvidenceRecord] = []
        let rows = try await db.client.query(
            """
            SELECT id, subject_kind, subject_key, control_id, result, extract(epoch FROM effective_at)::int8,
                   extract(epoch FROM expires_at)::int8, extract(epoch FROM recorded_at)::int8, subject_digest, artifacts::text,
                   uri, recorded_by, note, supersedes, prev_hash, hash, covered_files
            FROM evidence
            WHERE (\(subject?.kind.rawValue)::text IS NULL OR (subject_kind = \(subject?.kind.rawValue) AND subject_key = \(subject?.key)))
              AND (\(control)::text IS NULL OR control_id = \(control))
              AND (\(id)::int8 IS NULL OR id = \(id))
              AND (\(ids)::int8[] IS NULL OR id = ANY (\(ids)))
              AND (\(after)::int8 IS NULL OR id > \(after))
            ORDER BY id
            """, logger: db.logger)
        for try await row in rows {
            let (id, kind, key, control, result, effective, expires, recorded, digest, artifactsJSON, uri, by, note, supersedes, prev, hash, covered) =
                try row.decode((Int, SubjectKind, String, String, EvidenceResult, Int, Int, Int, String?, String, String?, String?, String?, Int?, String, String, [String]).self)
            var record = EvidenceRecord(
                id: id, subject: Subject(kind: kind, key: key), control: control,
                result: result, effectiveAt: effective, expiresAt: expires, recordedAt: recorded,
                subjectDigest: digest, artifacts: Self.decodeArtifacts(artifactsJSON), uri: uri, recordedBy: by, note: note,
                supersedes: supersedes, prevHash: prev, hash: hash)
            record.coveredFiles = covered
            records.append(record)
        }
        return records
    }

    /// The hash of the last record recorded by `date`: it pins the ledger an export was made from.
    public func head(asOf date: Date) async throws -> String {
        for try await hash in try await db.client.query(
            "SELECT hash FROM evidence WHERE recorded_at <= \(date) ORDER BY id DESC LIMIT 1", logger: db.logger
        ).decode(String.self) {
            return hash
        }
        return EvidenceRecord.genesisHash
    }

    static func decodeArtifacts(_ json: String) -> [Artifact] {
        guard case .array(let items)? = try? JSONTreeParser.parse(Data(json.utf8)) else { return [] }
        return items.compactMap { item in
            guard case .object(let f) = item, case .string(let name)? = f["name"], case .string(let sha)? = f["sha256"],
                case .int(let size)? = f["size"]
            else { return nil }
            return Artifact(name: name, sha256: sha, size: size)
        }
    }
}
