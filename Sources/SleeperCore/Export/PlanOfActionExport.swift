import Foundation

/// An OSCAL plan of action and milestones: one item per open gap (a control lacking valid
/// evidence on a subject) and one per critical or high exposure, each naming the evidence that
/// would close it.
public enum PlanOfActionExport {
    public static func render(_ snapshot: ComplianceSnapshot, framework: String? = nil) -> String {
        let inScope: Set<String>? = framework.map { f in Set(snapshot.catalog.mappings.filter { $0.framework == f }.map(\.control)) }
        let gaps = snapshot.statuses.filter { !$0.isValid && (inScope?.contains($0.control) ?? true) }
        var items = gaps.map { gapItem($0, framework: framework) }
        items += snapshot.exposures.map { exposureItem($0, snapshot) }
        let scope = framework ?? "all"
        let placeholder = JSONValue.obj([
            ("uuid", .string(NameUUID.make("poam-item", "none", snapshot.digest))),
            ("title", .string("No open items")),
            ("description", .string("Every applicable control has valid evidence and no exposure is critical or high at this date.")),
        ])
        let doc = JSONValue.obj([
            ("plan-of-action-and-milestones", .obj([
                ("uuid", .string(NameUUID.make("poam", scope, snapshot.digest))),
                ("metadata", OSCAL.metadata(title: "Sleeper plan of action and milestones: backdoor exposure (\(scope))", snapshot: snapshot)),
                ("system-id", .obj([("identifier-type", .string("https://ietf.org/rfc/rfc4122")), ("id", .string(NameUUID.make("estate")))])),
                ("risks", JSONValue.nonEmpty(snapshot.exposures.map { AssessmentResultsExport.risk($0, snapshot) })),
                ("poam-items", .array(items.isEmpty ? [placeholder] : items)),
            ])),
        ])
        return doc.pretty()
    }

    static func gapItem(_ g: ControlStatus, framework: String?) -> JSONValue {
        let items = g.items.filter { framework == nil || $0.hasPrefix(framework! + ":") }
        let expiry = g.expiresAt.map { ", expired \(Timestamps.formatDay($0))" } ?? ""
        return .obj([
            ("uuid", .string(NameUUID.make("poam-item", "gap", g.subject.description, g.control, g.status, String(g.evidenceID ?? 0)))),
            ("title", .string("Record valid evidence of \(g.control) for \(g.subject)")),
            ("description", .string("\(g.controlName): evidence is \(g.status)\(g.status.hasPrefix("expired") ? expiry : ""). Valid evidence of \(g.control) closes this gap for \(items.isEmpty ? "its framework items" : items.joined(separator: ", ")).")),
            ("props", OSCAL.props([("control", g.control), ("subject", g.subject.description), ("status", g.status),
                                   ("owner", g.owner), ("evidence-id", g.evidenceID.map(String.init))])),
        ])
    }

    static func exposureItem(_ e: Exposure, _ snapshot: ComplianceSnapshot) -> JSONValue {
        let open = snapshot.openControls(along: e)
        let closing = open.isEmpty ? "No control on its top path lacks evidence; reduce the credential's reach or lifetime."
            : "Valid evidence of " + open.map { "\($0.control) on \($0.subject)" }.joined(separator: ", ") + " would lower it."
        return .obj([
            ("uuid", .string(NameUUID.make("poam-item", "exposure", e.credential, String(snapshot.runID ?? 0)))),
            ("title", .string("Reduce the backdoor exposure of credential:\(e.credential) (score \(e.score), \(e.band))")),
            ("description", .string("Top path: \(e.path.joined(separator: " → ")); main factor: \(e.mainFactor). \(closing)")),
            ("props", OSCAL.props([("credential", e.credential), ("score", String(e.score)), ("band", e.band), ("owner", e.owner),
                                   ("closing-controls", open.isEmpty ? nil : Array(Set(open.map(\.control))).sorted().joined(separator: " "))])),
            ("related-risks", .array([.obj([("risk-uuid", .string(AssessmentResultsExport.riskUUID(e, snapshot)))])])),
        ])
    }
}
