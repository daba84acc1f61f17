import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    static let exportFormats = ["oscal-ar", "oscal-poam", "oscal-mapping", "csv", "json"]

    /// The same documents as `sleeper export`: byte-identical for the same state and `as_of`.
    func export(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let format = context.parameters.get("format") ?? ""
        guard Self.exportFormats.contains(format) else {
            throw APIError.notFound("no export format '\(format)' (\(Self.exportFormats.joined(separator: ", ")))")
        }
        let q = QueryInput(request)
        let framework = try await knownFramework(q.string("framework"))
        let basis = try q.basis()
        // The assessment results and the mapping need counts, not every status, and the CSV the
        // unrecorded subjects' keys, not their statuses (see `countingUnrecorded`).
        let snapshot = try await ComplianceSnapshotLoader(db).load(
            asOf: try q.moment("as_of") ?? SleeperClock.now(), basis: basis,
            countingUnrecorded: ["oscal-ar", "oscal-mapping", "csv"].contains(format),
            keepingUnrecordedKeys: format == "csv")
        try await AuditLog(db).record(
            actor: try caller.required().actor, action: "export.\(format)", target: nil,
            detail: snapshot.auditDetail(framework: framework))
        switch format {
        case "oscal-ar": return .json(AssessmentResultsExport.render(snapshot, framework: framework))
        case "oscal-poam": return .json(PlanOfActionExport.render(snapshot, framework: framework))
        case "oscal-mapping": return .json(MappingExport.render(snapshot.catalog, asOf: snapshot.asOf, framework: framework))
        case "csv": return .text(ComplianceTable.csv(snapshot, framework: framework), contentType: "text/csv; charset=utf-8")
        default: return .json(ComplianceTable.json(snapshot, framework: framework))
        }
    }
}

extension Handlers {
    /// The review report, as `sleeper report` makes it: `format=html` (default) or `markdown`,
    /// `as_of`, `since` (a run id or a date), `basis`. Refused over a ledger that does not verify.
    func report(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let format = try q.oneOf("format", ["html", "markdown"]) ?? "html"
        var since: Int?
        if let text = try q.string("since") {
            do { since = try await ScoreRuns(db).resolve(text, since: true) } catch let error as StoreError {
                throw APIError.invalid("since: \(error)", [("query: since", "not a run or a date")])
            }
        }
        let report = try await ReviewReportLoader(db).load(
            asOf: try q.moment("as_of") ?? SleeperClock.now(), since: since,
            maximumRunAge: try RunAgeLimit.seconds(), basis: try q.basis())
        try await AuditLog(db).record(
            actor: try caller.required().actor, action: "report.\(format)", target: nil,
            detail: report.snapshot.auditDetail(framework: nil))
        return format == "html"
            ? .text(ReportHTML.render(report), contentType: "text/html; charset=utf-8")
            : .text(ReportMarkdown.render(report), contentType: "text/markdown; charset=utf-8")
    }
}
