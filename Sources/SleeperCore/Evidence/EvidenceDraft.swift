import Foundation

/// Evidence as a user states it, before the ledger assigns its id, times and hash.
public struct EvidenceDraft: Sendable, Equatable {
    public var subject: Subject
    public var control: String
    public var result: EvidenceResult
    public var effective: Date?
    public var expires: Date?
    public var artifactPaths: [String]
    public var artifacts: [Artifact]
    public var uri: String?
    public var recordedBy: String?
    public var note: String?
    public var supersedes: Int?
    /// The digest of the bytes the check was made on (`sha256:…`), when known. The ledger binds the
    /// record to the model only if this is the model's digest; otherwise it refuses the record, or,
    /// with `recordStale`, records it bound to these other bytes (stale from the start).
    public var boundDigest: String?
    public var recordStale = false
    /// The model's files the check covered (`EvidenceRecord.coveredFiles`).
    public var coveredFiles: [String] = []
    /// An expiry beyond `EvidenceValidator.longestValidity` is refused unless this says it is meant
    /// (`--allow-long-validity`; the append's audit entry lists such records).
    public var allowLongValidity = false
    /// Where the draft came from, for error messages: `file` and `path` (`[2]`), or the command line.
    public var file: String
    public var path: String

    public init(
        subject: Subject, control: String, result: EvidenceResult, effective: Date? = nil, expires: Date? = nil,
        artifactPaths: [String] = [], artifacts: [Artifact] = [], uri: String? = nil, recordedBy: String? = nil,
        note: String? = nil, supersedes: Int? = nil, file: String = "command line", path: String = ""
    ) {
        self.subject = subject
        self.control = control
        self.result = result
        self.effective = effective
        self.expires = expires
        self.artifactPaths = artifactPaths
        self.artifacts = artifacts
        self.uri = uri
        self.recordedBy = recordedBy
        self.note = note
        self.supersedes = supersedes
        self.file = file
        self.path = path
    }

    func problem(_ field: String, _ message: String) -> InventoryProblem {
        InventoryProblem(file: file, path: path.isEmpty ? field : "\(path).\(field)", message: message)
    }
}

/// Reads an evidence file: a YAML or JSON list of records with the fields of `evidence add`.
public enum EvidenceReader {
    public static func read(_ data: Data, file: String) -> ([EvidenceDraft], [InventoryProblem]) {
        let read = read(data, file: file, lenient: false)
        return (read.drafts, read.problems)
    }

    /// `lenient`: fields the format does not know are warnings (not stored) instead of problems.
    public static func read(_ data: Data, file: String, lenient: Bool) -> (drafts: [EvidenceDraft], problems: [InventoryProblem], warnings: [InventoryProblem]) {
        let root: DocumentValue
        do { root = try DocumentLoader.load(data, file: file) } catch { return ([], [error], []) }
        // Every field is scanned for secrets below, before anything quotes a value.
        let c = ProblemCollector(file: file, checksSecrets: false)
        let unknown = lenient ? ProblemCollector(file: file, checksSecrets: false) : c
        let cursor = DocumentCursor(value: root, path: "")
        // A list of records, {evidence: [...]}, or (as the API takes it) one record.
        let entries: [DocumentCursor]
        if let fields = cursor.fields, fields["subject"] != nil { entries = [cursor] } else { entries = c.list(cursor.fields != nil ? cursor["evidence"] : cursor) }
        var drafts: [EvidenceDraft] = []
        // Every field of every record, artifact names included, before anything quotes a value.
        let secrets = ProblemCollector(file: file)
        let secretPaths = SecretScanner.scan(cursor, into: secrets)
        for entry in entries where c.object(entry) {
            unknown.refuseUnknownFields(entry, known: fields, what: "an evidence record")
            for a in c.list(entry["artifacts"]) where a.fields != nil { unknown.refuseUnknownFields(a, known: ["name", "sha256", "size"], what: "an artifact") }
            let subjectText = c.string(entry["subject"], required: true)
            let subject = subjectText.flatMap(Subject.init)
            if let subjectText, subject == nil {
                c.report(entry["subject"].path, "'\(subjectText)' is not KIND:KEY with KIND one of model, dataset, agent, credential")
            }
            let control = c.string(entry["control"], required: true)
            let result = c.enumeration(entry["result"], EvidenceResult.self)
            if entry["result"].isMissing { c.report(entry["result"].path, "is required (pass, fail or not-applicable)") }
            let draft = EvidenceDraft(
                subject: subject ?? Subject(kind: .model, key: "?"), control: control ?? "", result: result ?? .pass,
                effective: c.date(entry["effective"]), expires: c.moment(entry["expires"]),
                artifactPaths: c.list(entry["artifacts"]).compactMap { $0.fields == nil ? c.string($0) : nil },
                artifacts: c.list(entry["artifacts"]).compactMap { $0.fields == nil ? nil : artifact($0, c) },
                uri: c.string(entry["uri"]), recordedBy: c.string(entry["by"]), note: c.string(entry["note"]),
                supersedes: c.integer(entry["supersedes"], range: 1...Int.max), file: file,
                path: entry.path)
            if subject != nil, control != nil, result != nil { drafts.append(draft) }
        }
        // `[]`, `{}` or another tool's report (an object with neither `subject` nor `evidence`)
        // holds no record: refused, so that nothing (not even an audit entry) is written.
        if drafts.isEmpty && c.problems.isEmpty {
            let shape =
                cursor.fields.map { $0["evidence"] == nil ? "an object with neither 'subject' nor 'evidence'" : "an empty 'evidence' list" }
                ?? "an empty list"
            c.report("", "no evidence records in \(file): found \(shape); expected a list of records, {evidence: [...]}, or one record with subject, control and result")
        }
        return (drafts, secrets.problems + c.problems(excluding: secretPaths), lenient ? unknown.problems(excluding: secretPaths) : [])
    }

    /// The fields of an evidence record (those of `evidence add`).
    static let fields: Set<String> = ["subject", "control", "result", "effective", "expires", "artifacts", "uri", "by", "note", "supersedes"]

    /// An artifact stated by its hash (`{name, sha256, size}`): how API clients, which cannot hand
    /// the server their files, name what they checked.
    static func artifact(_ entry: DocumentCursor, _ c: ProblemCollector) -> Artifact? {
        let name = c.string(entry["name"], required: true)
        let sha = c.string(entry["sha256"], required: true)
        let size = c.integer(entry["size"], range: 0...Int.max)
        if let sha, sha.count != 64 || !sha.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            c.report(entry["sha256"].path, "must be 64 lowercase hex digits (a SHA-256)")
            return nil
        }
        guard let name, let sha else { return nil }
        return Artifact(name: name, sha256: sha, size: size ?? 0)
    }

}

/// Checks a draft against the catalog before anything touches the ledger.
public enum EvidenceValidator {
    /// `now` stands in for a missing effective date.
    public static func check(_ draft: EvidenceDraft, controls: [String: Control], now: Date) -> [InventoryProblem] {
        var problems: [InventoryProblem] = []
        guard let control = controls[draft.control] else {
            return [draft.problem("control", "unknown control '\(draft.control)' (see `sleeper controls`)")]
        }
        if !control.appliesTo.contains(draft.subject.kind) {
            problems.append(draft.problem("control", "\(control.id) does not apply to a \(draft.subject.kind.rawValue) (it applies to \(control.appliesTo.map(\.rawValue).joined(separator: ", ")))"))
        }
        let effective = draft.effective ?? now
        if let expires = draft.expires, expires <= effective {
            problems.append(draft.problem("expires", "\(Timestamps.formatDay(expires)) is not after the effective date \(Timestamps.formatDay(effective))"))
        }
        if let expires = draft.expires, expires > effective, !draft.allowLongValidity,
            expires.timeIntervalSince(effective) > TimeInterval(longestValidity(control)) * 86400
        {
            problems.append(
                draft.problem(
                    "expires",
                    "\(Timestamps.formatDay(expires)) is \(Int(expires.timeIntervalSince(effective) / 86400)) days after the effective date, more than twice \(control.id)'s validity of \(control.validityDays) days; a check that old proves little. Give --allow-long-validity if it is meant (audited)"
                ))
        }
        if effective > now.addingTimeInterval(86400) {
            problems.append(draft.problem("effective", "\(Timestamps.formatDay(effective)) is in the future; evidence records a check that was made"))
        }
        if draft.result == .withdrawn && draft.supersedes == nil {
            problems.append(draft.problem("supersedes", "a withdrawal must name the record it withdraws"))
        }
        for text in [draft.note, draft.uri, draft.recordedBy].compactMap({ $0 }) where SecretScanner.secretKind(of: text, field: "note") != nil {
            problems.append(draft.problem("note", "looks like secret material; the value is not shown and nothing was written"))
        }
        return problems
    }

    /// The longest a record of `control` may be made to count, in days, without
    /// `--allow-long-validity`: twice the control's validity.
    public static func longestValidity(_ control: Control) -> Int { 2 * control.validityDays }

    /// The expiry a draft gets when it names none: the control's validity from the effective date.
    public static func defaultExpiry(effective: Date, control: Control) -> Date {
        effective.addingTimeInterval(TimeInterval(control.validityDays) * 86400)
    }
}
