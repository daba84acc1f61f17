import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// The records in force (not superseded or withdrawn), in ledger order, optionally for one
    /// subject or control.
    func listEvidence(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let subject = try q.subject("subject")
        let records = try await EvidenceLedger(db).listed(subject: subject, control: q.string("control"))
        let objects = ListingRenderer.jsonObjects(EvidenceListing.records(records, includeSuperseded: try q.string("include_superseded") == "true"))
        return .page(of: objects, limit: limit, offset: offset)
    }

    /// One record (an object) or several (a list, or `{evidence: [...]}`), all or nothing.
    /// Artifacts are stated by hash, `{name, sha256, size}`: the server cannot read the caller's files.
    /// `Idempotency-Key` makes a retry return the first answer instead of a second record.
    func addEvidence(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let data = try await request.data(limit: limits.maxBodyBytes)
        guard !data.isEmpty else { throw APIError.invalid("the body is empty: send an evidence record (JSON or YAML)") }
        var (drafts, problems) = EvidenceReader.read(data, file: "body")
        for d in drafts {
            for (i, path) in d.artifactPaths.enumerated() {
                problems.append(
                    InventoryProblem(
                        file: "body", path: "\(d.path).artifacts[\(i)]",
                        message: "'\(path)' is a file path; over the API give {name, sha256, size}"))
            }
        }
        if drafts.isEmpty && problems.isEmpty { problems.append(InventoryProblem(file: "body", path: "", message: "no evidence records in the body")) }
        if !problems.isEmpty { throw APIError.problems(InventoryProblems(problems)) }
        drafts = drafts.map {
            var d = $0; d.recordedBy = d.recordedBy ?? caller.name; return d
        }
        return try await idempotent(request, body: data, caller: caller) {
            let (records, rescore) = try await ScoredChanges(db).recordEvidence(drafts, actor: caller.actor)
            return (.created, JSONValue.obj([("recorded", .array(records.map(recordJSON))), ("rescore", rescoreJSON(rescore))]).pretty())
        }
    }

    /// A record as the write routes answer it.
    func recordJSON(_ r: EvidenceRecord) -> JSONValue {
        JSONValue.obj([
            ("id", .int(r.id)), ("subject", .string(r.subject.description)), ("control", .string(r.control)),
            ("result", .string(r.result.rawValue)), ("effective", .string(Timestamps.format(Date(timeIntervalSince1970: TimeInterval(r.effectiveAt))))),
            ("expires", .string(Timestamps.format(Date(timeIntervalSince1970: TimeInterval(r.expiresAt))))),
            ("subject_digest", r.subjectDigest.map(JSONValue.string)), ("hash", .string(r.hash)),
        ])
    }

    /// The full check `sleeper verify` makes: both chains, stored forms and triggers.
    func verifyLedger(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let outcome = try await LedgerVerifier(db).verify()
        return .json(
            JSONValue.obj([
                ("verified", .bool(outcome.verified)), ("records", .int(outcome.evidenceRecords)),
                ("head", .string(outcome.evidenceHead)), ("audit_entries", .int(outcome.auditEntries)),
                ("problems", .array(outcome.problems.map(JSONValue.string))),
            ]).pretty())
    }
}
