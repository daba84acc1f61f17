import Foundation
import Hummingbird
import SleeperCore
import SleeperStore

extension Handlers {
    /// OTLP/HTTP with JSON encoding, on the path the OTLP exporter posts to: an OpenTelemetry
    /// Collector (or an SDK's exporter) sends straight to Sleeper. `sleeper observe import` over HTTP.
    /// The answer is OTLP's `ExportTraceServiceResponse`, with `partialSuccess` counting the
    /// spans that were skipped, and Sleeper's own summary beside it.
    func traces(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        let data = try await request.data(limit: limits.maxBodyBytes)
        guard !data.isEmpty else { throw APIError.invalid("the body is empty: send an OTLP/JSON ExportTraceServiceRequest") }
        let baseline = try QueryInput(request).int("baseline_days", in: 1...3650) ?? 14
        let imported = try await ScoredChanges(db).importTraces(data, file: "body", baselineDays: baseline, actor: caller.actor)
        let rejected = imported.skipped.values.reduce(0, +)
        var members: [(String, JSONValue?)] = []
        if rejected > 0 {
            members.append(
                (
                    "partialSuccess",
                    .obj([
                        ("rejectedSpans", .string(String(rejected))),
                        ("errorMessage", .string(imported.firstSkipped.first ?? "")),
                    ])
                ))
        }
        let skipped: [(String, JSONValue?)] = imported.skipped.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) }
        // Agents not in the inventory: how many, their traces, and a sample (most traces first) —
        // never the whole list, which a batch of 100,000 made 2.4 MB.
        let sample = FindingListing.unknownSample(imported.unknownAgents)
        let unknown: [(String, JSONValue?)] = [
            ("count", .int(imported.unknownAgents.count)), ("traces", .int(imported.unknownAgents.values.reduce(0, +))),
            ("sample", .obj(sample.map { ($0.name, JSONValue.int($0.traces)) })),
        ]
        let summary: [(String, JSONValue?)] = [
            ("spans", .int(imported.spans)), ("traces", .int(imported.traces)), ("monitored_traces", .int(imported.monitoredTraces)), ("edges", .int(imported.edges)),
            ("already_imported", imported.alreadyImported.map { .string(Timestamps.format($0)) }),
            ("already_seen_spans", .int(imported.alreadySeen)),
            ("skipped", .obj(skipped)), ("unknown_agents", .obj(unknown)),
            ("unlisted_findings", .obj(imported.unlisted.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })),
            ("findings", .array(imported.findings.map(Self.findingJSON))),
            ("recorded", .array(imported.records.map(recordJSON))),
            ("rescore", imported.rescore.map(rescoreJSON)),
        ]
        members.append(("sleeper", .obj(summary)))
        // Nothing monitored is said where an OTLP exporter looks, not only in Sleeper's summary.
        if imported.monitoredTraces == 0, rejected == 0, imported.alreadyImported == nil, !imported.allSeenBefore {
            members.insert(
                (
                    "partialSuccess",
                    .obj([
                        ("rejectedSpans", .string(String(imported.spans))),
                        ("errorMessage", .string("nothing was monitored: no trace belongs to an agent of the inventory")),
                    ])
                ), at: 0)
        }
        return .json(JSONValue.obj(members).pretty())
    }

    static func findingJSON(_ f: RecordedFinding) -> JSONValue {
        let triggers: [JSONValue] = f.triggers.map { t in
            JSONValue.obj([
                ("ngram", .string(t.ngram)), ("in_anomalous", .int(t.inAnomalous)), ("anomalous", .int(t.anomalous)),
                ("in_normal", .int(t.inNormal)), ("normal", .int(t.normal)),
            ])
        }
        return JSONValue.obj([
            ("id", .int(f.id)), ("agent", .string(f.agent)), ("kind", .string(f.kind)), ("target", .string(f.target)), ("count", .int(f.count)),
            ("first_seen", .string(Timestamps.format(f.firstSeen))), ("last_seen", .string(Timestamps.format(f.lastSeen))),
            ("status", .string(f.status.rawValue)), ("example_traces", .array(f.examples.map(JSONValue.string))),
            ("trigger_candidates", .array(triggers)), ("reason", f.reason.map(JSONValue.string)), ("decided_by", f.decidedBy.map(JSONValue.string)),
        ])
    }

    /// `sleeper findings` over HTTP: `?agent=&status=`, paged.
    func findings(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let q = QueryInput(request)
        let (limit, offset) = try q.page(max: pageMax)
        let status = try q.oneOf("status", FindingStatus.allCases.map(\.rawValue)).flatMap(FindingStatus.init(rawValue:))
        let found = try await RuntimeStore(db).rankedFindings(agent: q.string("agent"), status: status).map(\.finding)
        return .page(of: ListingRenderer.jsonObjects(FindingListing.findings(found)), limit: limit, offset: offset)
    }

    /// `sleeper findings mark` over HTTP: `{status, reason, by?}`.
    func markFinding(_ request: Request, _ context: APIContext, _ caller: Caller?) async throws -> Response {
        let caller = try caller.required()
        guard let id = context.parameters.get("id").flatMap({ Int($0) }), id > 0 else { throw APIError.invalid("the finding id must be a positive number") }
        let (body, c, _) = try await fields(request, what: "{status, reason, by?}")
        let status = c.enumeration(body["status"], FindingStatus.self)
        if body["status"].isMissing { c.report(body["status"].path, "is required (open, acknowledged, false-positive)") }
        let reason = c.string(body["reason"], required: true)
        let by = c.string(body["by"]) ?? caller.name
        guard c.problems.isEmpty, let status, let reason else { throw APIError.problems(InventoryProblems(c.problems)) }
        let marked = try await ScoredChanges(db).markFinding(id, status: status, reason: reason, by: by, actor: caller.actor)
        return .json(
            JSONValue.obj([
                ("finding", Self.findingJSON(marked.finding)),
                ("recorded", .array(marked.records.map(recordJSON))),
                ("rescore", marked.rescore.map(rescoreJSON)),
            ]).pretty())
    }
}
