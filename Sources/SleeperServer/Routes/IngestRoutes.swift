import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// A testing tool's report as the body: `sleeper evidence ingest` over HTTP. The server cannot
    /// read the model's files, so a report about files needs `digest` (the tested bytes' SHA-256).
    func ingestReport(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let data = try await request.data(limit: limits.maxBodyBytes)
        guard !data.isEmpty else { throw APIError.invalid("the body is empty: send the report of a testing tool") }
        let q = QueryInput(request)
        guard let subject = try q.subject("subject") else { throw APIError.invalid("subject: is required (model:KEY)") }
        let format = try q.oneOf("format", ReportFormat.allCases.map(\.rawValue)).flatMap(ReportFormat.init(rawValue:))
        let stale = try q.oneOf("record_stale", ["true", "false"]) == "true"
        var rules = reportRules
        if let zoneName = try q.string("timezone") {
            guard let zone = ReportTime.zone(zoneName) else { throw APIError.invalid("timezone: '\(zoneName)' is not a time zone (Europe/Paris, UTC, +02:00)") }
            rules.zoneless = zone
            rules.zonelessName = zoneName
        }
        var tested = TestedBytes.notNamed
        if let digest = try q.string("digest") {
            guard digest.range(of: #"^sha256:[0-9a-fA-F]{64}$"#, options: .regularExpression) != nil else {
                throw APIError.invalid("digest: '\(digest)' is not sha256: and 64 hex digits")
            }
            tested = .digest(digest.lowercased(), how: "stated by the caller")
        }
        let fallback = try q.date("effective").map { ($0, "the time given with effective") } ?? (SleeperClock.now(), "the time the report reached Sleeper")
        let context = ScoredChanges.ReportContext(subject: subject, tested: tested, recordStale: stale, fallback: fallback, by: try q.string("by") ?? caller.name)
        return try await idempotent(request, body: data, caller: caller) {
            let ingested = try await ScoredChanges(db).ingestReport(
                data, file: "body", format: format, control: q.string("control"), rules: rules,
                context: context, actor: caller.actor)
            let r = ingested.report
            let report = JSONValue.obj([
                ("format", .string(r.format.rawValue)), ("tool", .string(r.tool)), ("control", .string(r.control)),
                ("result", .string(r.result.rawValue)), ("rule", .string(r.rule)), ("summary", .string(r.summary)),
                ("findings", .array(r.findings.map(JSONValue.string))),
            ])
            return (.created, JSONValue.obj([("report", report), ("recorded", .array(ingested.records.map(recordJSON))), ("rescore", rescoreJSON(ingested.rescore))]).pretty())
        }
    }
}
