import Foundation

/// An OSCAL plan of action and milestones built from what the team decided to do: one item per
/// remediation action (its deadline a milestone), one per control and owner with subjects lacking
/// valid evidence, one per accepted risk (`deviation-approved`, with the approver and the date),
/// and one per owner and band of critical and high exposures. Its size grows with actions, owners
/// and controls, not with every subject's every gap.
public enum PlanOfActionExport {
    /// The subjects an item names in full; the rest are counted.
    static let namedSubjects = 10

    public static func render(_ snapshot: ComplianceSnapshot, framework: String? = nil) -> String {
        var out = ""
        render(snapshot, framework: framework) { out += $0 }
        return out
    }

    /// The document in pieces, item by item, written out as they are made. The bytes are those of
    /// the whole document pretty-printed.
    public static func render(_ snapshot: ComplianceSnapshot, framework: String? = nil, _ emit: (String) -> Void) {
        let inScope: Set<String>? = framework.map { f in Set(snapshot.catalog.mappings.filter { $0.framework == f }.map(\.control)) }
        let scope = framework ?? "all"
        let digest = snapshot.digest
        // A cancelled action was not done: it stays an item, saying it was cancelled and why.
        let open = snapshot.actions.filter { $0.status != .done }
        let acceptedGaps = snapshot.acceptances.filter { $0.control != nil && (inScope?.contains($0.control ?? "") ?? true) }
        let groups = gapGroups(snapshot.statuses.filter { !$0.isValid && $0.status != .accepted && (inScope?.contains($0.control) ?? true) })
        let exposures = exposureGroups(snapshot.exposures)
        let risks = open.map { actionRisk($0, snapshot) } + acceptedGaps.map { acceptanceRisk($0, snapshot) } + exposures.map { exposureRisk($0, snapshot) }
        let head = JSONValue.obj([
            ("uuid", .string(NameUUID.make("poam", scope, digest))),
            ("metadata", OSCAL.metadata(title: "Sleeper plan of action and milestones: backdoor exposure (\(scope))", snapshot: snapshot)),
            ("system-id", .obj([("identifier-type", .string("https://ietf.org/rfc/rfc4122")), ("id", .string(NameUUID.make("estate")))])),
            ("risks", JSONValue.nonEmpty(risks)),
        ]).pretty(indent: 1)
        // The members of `head`, then "poam-items" as the last member of the same object.
        emit("{\n  \"plan-of-action-and-milestones\": " + head.dropLast(4) + ",\n    \"poam-items\": [\n")
        var first = true
        func item(_ value: JSONValue) {
            emit((first ? "" : ",\n") + "      " + value.pretty(indent: 3))
            first = false
        }
        for a in open { item(actionItem(a, snapshot)) }
        for a in acceptedGaps { item(acceptanceItem(a, snapshot)) }
        for g in groups { item(gapItem(g, framework: framework, snapshot)) }
        for e in exposures { item(exposureItem(e, snapshot)) }
        if first {
            item(
                .obj([
                    ("uuid", .string(NameUUID.make("poam-item", "none", digest))),
                    ("title", .string("No open items")),
                    ("description", .string("No action is open, every applicable control has valid evidence and no exposure is critical or high at this date.")),
                ]))
        }
        emit("\n    ]\n  }\n}\n")
    }

    // MARK: Actions

    static func actionRiskUUID(_ a: RemediationAction) -> String { NameUUID.make("risk", "action", String(a.id)) }

    static func actionRisk(_ a: RemediationAction, _ snapshot: ComplianceSnapshot) -> JSONValue {
        let acceptance = snapshot.acceptances.first { $0.action == a.id }
        return .obj([
            ("uuid", .string(actionRiskUUID(a))),
            ("title", .string(ActionTickets.summary(a))),
            ("description", .string("\(a.subject) lies in the blast radius of recall #\(a.recall), which counts the recalled subject as compromised.")),
            ("statement", .string(ActionTickets.description(a))),
            (
                "props",
                OSCAL.props([
                    ("action", a.action.rawValue), ("subject", a.subject.description), ("owner", a.owner ?? "unowned"),
                    ("band", a.band.rawValue), ("score", a.score.map(String.init)), ("recall", String(a.recall)),
                ])
            ),
            ("status", .string(acceptance != nil && a.status != .cancelled ? "deviation-approved" : "open")),
            ("deadline", .string(Timestamps.format(a.due))),
            (
                "remediations",
                .array([
                    .obj([
                        ("uuid", .string(NameUUID.make("response", "action", String(a.id)))),
                        ("lifecycle", .string("planned")),
                        ("title", .string(ActionTickets.summary(a))),
                        ("description", .string("Owned by \(a.owner ?? "nobody (unowned)"); due \(Timestamps.formatDay(a.due)) by the \(a.band.rawValue) service level.")),
                        (
                            "tasks",
                            .array([
                                .obj([
                                    ("uuid", .string(NameUUID.make("task", "action", String(a.id)))),
                                    ("type", .string("milestone")),
                                    ("title", .string("Due: \(ActionTickets.summary(a))")),
                                    ("timing", .obj([("on-date", .obj([("date", .string(Timestamps.format(a.due)))]))])),
                                ])
                            ])
                        ),
                    ])
                ])
            ),
            ("risk-log", acceptance.map { riskLog($0) }),
        ])
    }

    static func actionItem(_ a: RemediationAction, _ snapshot: ComplianceSnapshot) -> JSONValue {
        .obj([
            ("uuid", .string(NameUUID.make("poam-item", "action", String(a.id)))),
            ("title", .string(ActionTickets.summary(a))),
            ("description", .string(ActionTickets.description(a) + (a.status == .cancelled ? " Cancelled, not done: \(a.closedBecause ?? "its recall was released")." : ""))),
            (
                "props",
                OSCAL.props([
                    ("action-id", String(a.id)), ("owner", a.owner ?? "unowned"), ("band", a.band.rawValue), ("status", a.status.rawValue),
                    ("due", Timestamps.formatDay(a.due)),
                ])
            ),
            ("related-risks", .array([.obj([("risk-uuid", .string(actionRiskUUID(a)))])])),
        ])
    }

    // MARK: Accepted gaps

    /// The acceptance as the risk's log: approved by whom, from when until when, and why.
    static func riskLog(_ a: AcceptedRisk) -> JSONValue {
        .obj([
            (
                "entries",
                .array([
                    .obj([
                        ("uuid", .string(NameUUID.make("risk-log", "acceptance", String(a.id)))),
                        ("title", .string("Risk accepted by \(a.by)")),
                        ("description", .string("\(a.target) on \(a.subject) accepted by \(a.by) until \(Timestamps.formatDay(a.until)): \(a.reason)")),
                        ("start", .string(Timestamps.format(a.created))),
                        ("end", .string(Timestamps.format(a.until))),
                        ("status-change", .string("deviation-approved")),
                    ])
                ])
            )
        ])
    }

    static func acceptanceRiskUUID(_ a: AcceptedRisk) -> String { NameUUID.make("risk", "acceptance", String(a.id)) }

    static func acceptanceRisk(_ a: AcceptedRisk, _ snapshot: ComplianceSnapshot) -> JSONValue {
        .obj([
            ("uuid", .string(acceptanceRiskUUID(a))),
            ("title", .string("Accepted: no valid evidence of \(a.target) for \(a.subject) until \(Timestamps.formatDay(a.until))")),
            ("description", .string(a.reason)),
            ("statement", .string("The gap is accepted by \(a.by) until \(Timestamps.formatDay(a.until)) (\(a.band.rawValue) at stake); it lapses by itself then.")),
            (
                "props",
                OSCAL.props([
                    ("subject", a.subject.description), ("control", a.control), ("band", a.band.rawValue),
                    ("accepted-by", a.by), ("accepted-until", Timestamps.format(a.until)),
                ])
            ),
            ("status", .string("deviation-approved")),
            ("deadline", .string(Timestamps.format(a.until))),
            ("risk-log", riskLog(a)),
        ])
    }

    static func acceptanceItem(_ a: AcceptedRisk, _ snapshot: ComplianceSnapshot) -> JSONValue {
        .obj([
            ("uuid", .string(NameUUID.make("poam-item", "acceptance", String(a.id)))),
            ("title", .string("Accepted risk: \(a.target) on \(a.subject)")),
            ("description", .string("Accepted by \(a.by) until \(Timestamps.formatDay(a.until)): \(a.reason)")),
            (
                "props",
                OSCAL.props([
                    ("control", a.control), ("subject", a.subject.description), ("accepted-by", a.by),
                    ("accepted-until", Timestamps.format(a.until)),
                ])
            ),
            ("related-risks", .array([.obj([("risk-uuid", .string(acceptanceRiskUUID(a)))])])),
        ])
    }

    // MARK: Gaps, by control and owner

    struct GapGroup {
        var control: String, controlName: String, owner: String?
        var gaps: [ControlStatus]
        var items: [String]
    }

    static func gapGroups(_ gaps: [ControlStatus]) -> [GapGroup] {
        var order: [String] = [], groups: [String: GapGroup] = [:]
        for g in gaps {
            let key = g.control + "\u{1}" + (g.owner ?? "")
            if groups[key] == nil {
                order.append(key)
                groups[key] = GapGroup(control: g.control, controlName: g.controlName, owner: g.owner, gaps: [], items: g.items)
            }
            groups[key]?.gaps.append(g)
        }
        return order.compactMap { groups[$0] }.sorted { ($0.control, $0.owner ?? "") < ($1.control, $1.owner ?? "") }
    }

    static func gapItem(_ g: GapGroup, framework: String?, _ snapshot: ComplianceSnapshot) -> JSONValue {
        let items = g.items.filter { framework == nil || $0.hasPrefix(framework! + ":") }
        var byStatus: [String: Int] = [:]
        for s in g.gaps { byStatus[s.status.rawValue, default: 0] += 1 }
        let statuses = byStatus.keys.sorted().map { "\(byStatus[$0] ?? 0) \($0)" }.joined(separator: ", ")
        let named = g.gaps.prefix(namedSubjects).map(\.subject.description).joined(separator: ", ")
        let more = g.gaps.count > namedSubjects ? " and \(g.gaps.count - namedSubjects) more" : ""
        return .obj([
            ("uuid", .string(NameUUID.make("poam-item", "gaps", g.control, g.owner ?? "", String(g.gaps.count)))),
            ("title", .string("Record valid evidence of \(g.control) for \(g.gaps.count) subject(s) owned by \(g.owner ?? "nobody (unowned)")")),
            (
                "description",
                .string(
                    "\(g.controlName): \(statuses). Subjects: \(named)\(more). Valid evidence of \(g.control) closes each gap for \(items.isEmpty ? "its framework items" : items.joined(separator: ", "))."
                )
            ),
            ("props", OSCAL.props([("control", g.control), ("owner", g.owner ?? "unowned"), ("subjects", String(g.gaps.count))])),
        ])
    }

    // MARK: Exposures, by owner and band

    struct ExposureGroup {
        var owner: String?, band: Band
        var exposures: [Exposure]
    }

    static func exposureGroups(_ exposures: [Exposure]) -> [ExposureGroup] {
        var order: [String] = [], groups: [String: ExposureGroup] = [:]
        for e in exposures {
            let key = e.band.rawValue + "\u{1}" + (e.owner ?? "")
            if groups[key] == nil { order.append(key); groups[key] = ExposureGroup(owner: e.owner, band: e.band, exposures: []) }
            groups[key]?.exposures.append(e)
        }
        return order.compactMap { groups[$0] }
    }

    static func exposureRiskUUID(_ g: ExposureGroup, _ snapshot: ComplianceSnapshot) -> String {
        NameUUID.make("risk", "exposures", g.band.rawValue, g.owner ?? "", String(snapshot.runID ?? 0))
    }

    static func exposureRisk(_ g: ExposureGroup, _ snapshot: ComplianceSnapshot) -> JSONValue {
        let worst = g.exposures.prefix(namedSubjects).map { "\($0.credential) (\($0.score))" }.joined(separator: ", ")
        return .obj([
            ("uuid", .string(exposureRiskUUID(g, snapshot))),
            ("title", .string("\(g.exposures.count) \(g.band) backdoor exposure(s) of credentials owned by \(g.owner ?? "nobody (unowned)")")),
            ("description", .string("The worst: \(worst)\(g.exposures.count > namedSubjects ? ", and \(g.exposures.count - namedSubjects) more" : "").")),
            ("statement", .string("If a model upstream of these credentials carries a backdoor, its trigger can make an agent use them (scoring run \(snapshot.runID.map(String.init) ?? "none")).")),
            (
                "props",
                OSCAL.props([
                    ("band", g.band.rawValue), ("owner", g.owner ?? "unowned"), ("credentials", String(g.exposures.count)),
                    ("worst-score", g.exposures.first.map { String($0.score) }),
                ])
            ),
            ("status", .string("open")),
        ])
    }

    static func exposureItem(_ g: ExposureGroup, _ snapshot: ComplianceSnapshot) -> JSONValue {
        let open = snapshot.openControls(along: Array(g.exposures.prefix(namedSubjects)))
        let closing = Set(open.flatMap { $0.map(\.control) }).sorted()
        return .obj([
            ("uuid", .string(NameUUID.make("poam-item", "exposures", g.band.rawValue, g.owner ?? "", String(snapshot.runID ?? 0)))),
            ("title", .string("Reduce \(g.exposures.count) \(g.band) backdoor exposure(s) owned by \(g.owner ?? "nobody (unowned)")")),
            (
                "description",
                .string(
                    closing.isEmpty
                        ? "No control on the worst paths lacks evidence; reduce the credentials' reach or lifetime."
                        : "Valid evidence of \(closing.joined(separator: ", ")) on the worst paths would lower them.")
            ),
            (
                "props",
                OSCAL.props([
                    ("band", g.band.rawValue), ("owner", g.owner ?? "unowned"), ("credentials", String(g.exposures.count)),
                    ("closing-controls", closing.isEmpty ? nil : closing.joined(separator: " ")),
                ])
            ),
            ("related-risks", .array([.obj([("risk-uuid", .string(exposureRiskUUID(g, snapshot)))])])),
        ])
    }
}
