import Foundation

/// An OSCAL plan of action and milestones: one item per open gap (a control lacking valid
/// evidence on a subject) and one per critical or high exposure, each naming the evidence that
/// would close it.
public enum PlanOfActionExport {
    public static func render(_ snapshot: ComplianceSnapshot, framework: String? = nil) -> String {
        var out = ""
        render(snapshot, framework: framework) { out += $0 }
        return out
    }

    /// The document in pieces, item by item: at a million credentials it has millions of items,
    /// which are written out as they are made rather than held as one tree. The bytes are those
    /// of the whole document pretty-printed.
    public static func render(_ snapshot: ComplianceSnapshot, framework: String? = nil, _ emit: (String) -> Void) {
        let inScope: Set<String>? = framework.map { f in Set(snapshot.catalog.mappings.filter { $0.framework == f }.map(\.control)) }
        let scope = framework ?? "all"
        let digest = snapshot.digest
        let head = JSONValue.obj([
            ("uuid", .string(NameUUID.make("poam", scope, digest))),
            ("metadata", OSCAL.metadata(title: "Sleeper plan of action and milestones: backdoor exposure (\(scope))", snapshot: snapshot)),
            ("system-id", .obj([("identifier-type", .string("https://ietf.org/rfc/rfc4122")), ("id", .string(NameUUID.make("estate")))])),
            ("risks", JSONValue.nonEmpty(snapshot.exposures.map { AssessmentResultsExport.risk($0, snapshot) })),
        ]).pretty(indent: 1)
        // The members of `head`, then "poam-items" as the last member of the same object.
        emit("{\n  \"plan-of-action-and-milestones\": " + head.dropLast(4) + ",\n    \"poam-items\": [\n")
        var first = true
        func item(_ value: JSONValue) {
            emit((first ? "" : ",\n") + "      " + value.pretty(indent: 3))
            first = false
        }
        for g in snapshot.statuses where !g.isValid && (inScope?.contains(g.control) ?? true) { item(gapItem(g, framework: framework)) }
        let open = snapshot.openControls(along: snapshot.exposures)
        for (i, e) in snapshot.exposures.enumerated() { item(exposureItem(e, open: open[i], snapshot)) }
        if first {
            item(.obj([
                ("uuid", .string(NameUUID.make("poam-item", "none", digest))),
                ("title", .string("No open items")),
                ("description", .string("Every applicable control has valid evidence and no exposure is critical or high at this date.")),
            ]))
        }
        emit("\n    ]\n  }\n}\n")
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

    static func exposureItem(_ e: Exposure, open: [ControlStatus], _ snapshot: ComplianceSnapshot) -> JSONValue {
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
