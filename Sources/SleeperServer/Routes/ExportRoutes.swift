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
        let snapshot = try await ComplianceSnapshotLoader(db).load(asOf: try q.moment("as_of") ?? SleeperClock.now(), basis: basis)
        try await AuditLog(db).record(actor: try caller.required().actor, action: "export.\(format)", target: nil,
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
