import Foundation

/// An OSCAL assessment-results document: one result per framework assessed, an observation per
/// deciding evidence record, a finding per mapped framework item, and a final result carrying
/// the critical and high exposures of the scoring run as risks.
public enum AssessmentResultsExport {
    public static func render(_ snapshot: ComplianceSnapshot, framework: String? = nil) -> String {
        let planUUID = NameUUID.make("assessment-plan", snapshot.catalog.crosswalkStatement)
        // Hashing every status is the dearest step at a million credentials: once per document.
        let digest = snapshot.digest
        var results = snapshot.frameworks(only: framework).compactMap { result(for: $0, snapshot, digest: digest) }
        results.append(exposureResult(snapshot, digest: digest))
        let scope = framework ?? "all"
        let doc = JSONValue.obj([
            (
                "assessment-results",
                .obj([
                    ("uuid", .string(NameUUID.make("assessment-results", scope, digest))),
                    ("metadata", OSCAL.metadata(title: "Sleeper assessment results: backdoor exposure controls (\(scope))", snapshot: snapshot)),
                    (
                        "import-ap",
                        .obj([
                            ("href", .string("#\(planUUID)")),
                            ("remarks", .string("Sleeper assesses continuously; its plan is the control catalog and crosswalk described in back-matter.")),
                        ])
                    ),
                    ("results", .array(results)),
                    ("back-matter", .obj([("resources", .array([planResource(planUUID, snapshot)]))])),
                ])
            )
        ])
        return doc.pretty()
    }

    static func planResource(_ uuid: String, _ snapshot: ComplianceSnapshot) -> JSONValue {
        let frameworks = snapshot.catalog.frameworks.map { "\($0.name) \($0.edition)" }.joined(separator: "; ")
        return .obj([
            ("uuid", .string(uuid)),
            ("title", .string("Sleeper control catalog and crosswalk")),
            (
                "description",
                .string("Sleeper's \(snapshot.catalog.controls.count) controls, checked by evidence recorded in its ledger, mapped to: \(frameworks). \(snapshot.catalog.crosswalkStatement)")
            ),
        ])
    }

    static func result(for framework: Framework, _ snapshot: ComplianceSnapshot, digest: String) -> JSONValue? {
        let assessed = snapshot.assessments(framework: framework)
        guard !assessed.isEmpty else { return nil }
        let records = snapshot.evidence(for: framework)
        let observations = records.map { observation($0, framework: framework, snapshot) }
        let subjects = Set(records.map(\.subject)).sorted { $0.description < $1.description }
        let wanted = Set(subjects)
        var owners: [Subject: String?] = [:]
        for st in snapshot.statuses where st.evidenceID != nil && wanted.contains(st.subject) { owners[st.subject] = st.owner }
        let inventory = subjects.map { s in
            JSONValue.obj([
                ("uuid", .string(OSCAL.subjectUUID(s))),
                ("description", .string("\(s.kind.rawValue) \(s.key)")),
                ("props", OSCAL.props([("subject", s.description), ("owner", owners[s] ?? nil)])),
            ])
        }
        let satisfied = assessed.filter(\.satisfied).count
        return .obj([
            ("uuid", .string(NameUUID.make("result", framework.id, digest))),
            ("title", .string("\(framework.name) \(framework.edition)")),
            ("description", .string("\(satisfied) of \(assessed.count) mapped items satisfied: every subject a mapped Sleeper control applies to has valid evidence of one of them.")),
            ("start", .string(Timestamps.format(snapshot.asOf))),
            ("end", .string(Timestamps.format(snapshot.asOf))),
            ("props", OSCAL.props([("framework", framework.id), ("framework-edition", framework.edition)])),
            ("local-definitions", JSONValue.nonEmpty(inventory).map { .obj([("inventory-items", $0)]) }),
            (
                "reviewed-controls",
                .obj([
                    (
                        "control-selections",
                        .array([
                            .obj([
                                ("include-controls", .array(assessed.map { .obj([("control-id", .string(OSCAL.token($0.item.id)))]) }))
                            ])
                        ])
                    )
                ])
            ),
            ("observations", JSONValue.nonEmpty(observations)),
            ("findings", .array(assessed.map { finding($0, snapshot, digest: digest) })),
        ])
    }

    static func observationUUID(_ id: Int, _ framework: String) -> String { NameUUID.make("observation", framework, String(id)) }

    static func observation(_ r: EvidenceRecord, framework: Framework, _ snapshot: ComplianceSnapshot) -> JSONValue {
        let control = snapshot.catalog.controls.first { $0.id == r.control }
        var evidence: [JSONValue] = r.artifacts.map { a in
            .obj([
                ("description", .string("Artifact \(a.name), \(a.size) bytes; content is not stored, only its hash.")),
                ("props", OSCAL.props([("artifact-sha256", a.sha256), ("artifact-name", a.name)])),
            ])
        }
        if let uri = r.uri { evidence.append(.obj([("href", .string(uri)), ("description", .string("Where the checked output is kept."))])) }
        if evidence.isEmpty { evidence.append(.obj([("description", .string("Ledger record \(r.id) (hash \(r.hash.prefix(16))); no artifact was attached."))])) }
        return .obj([
            ("uuid", .string(observationUUID(r.id, framework.id))),
            ("title", .string("\(r.control) on \(r.subject): \(r.result.rawValue)")),
            (
                "description",
                .string(
                    "Evidence of \(r.control)\(control.map { " (\($0.name))" } ?? "") for \(r.subject)\(r.subjectDigest.map { " at digest \($0)" } ?? ""): \(r.result.rawValue).\(r.note.map { " Note: \($0)." } ?? "")"
                )
            ),
            (
                "props",
                OSCAL.props([
                    ("evidence-id", String(r.id)), ("control", r.control), ("result", r.result.rawValue),
                    ("record-hash", r.hash), ("subject-digest", r.subjectDigest), ("recorded-by", r.recordedBy),
                ])
            ),
            ("methods", .array([.string(control?.evidence == "attestation" ? "EXAMINE" : "TEST")])),
            (
                "subjects",
                .array([
                    .obj([
                        ("subject-uuid", .string(OSCAL.subjectUUID(r.subject))), ("type", .string("inventory-item")),
                        ("title", .string(r.subject.description)),
                    ])
                ])
            ),
            ("relevant-evidence", .array(evidence)),
            ("collected", .string(OSCAL.date(r.effectiveAt))),
            ("expires", .string(OSCAL.date(r.expiresAt))),
        ])
    }

    static func finding(_ a: ComplianceSnapshot.ItemAssessment, _ snapshot: ComplianceSnapshot, digest: String) -> JSONValue {
        let alias = a.item.isAlias ? " (a name guidance uses for \(a.item.aliasOf.joined(separator: ", ")); not an OWASP number)" : ""
        let gapSummary = a.openGapSamples.map { "\($0.control) \($0.status) on \($0.subject)" }.joined(separator: "; ")
        let description =
            "\(a.covered) of \(a.applicable) applicable subjects have valid evidence of \(a.controls.joined(separator: ", "))."
            + (a.openGapTotal == 0 ? "" : " Open: \(gapSummary)\(a.openGapTotal > a.openGapSamples.count ? " and \(a.openGapTotal - a.openGapSamples.count) more" : "").")
        return .obj([
            ("uuid", .string(NameUUID.make("finding", a.framework.id, a.item.id, digest))),
            ("title", .string("\(a.item.id) \(a.item.name)\(alias)")),
            ("description", .string(description)),
            ("props", OSCAL.props([("item-id", a.item.id), ("applicable-subjects", String(a.applicable)), ("covered-subjects", String(a.covered))])),
            (
                "target",
                .obj([
                    ("type", .string("objective-id")),
                    ("target-id", .string(OSCAL.token(a.item.id))),
                    (
                        "status",
                        .obj([
                            ("state", .string(a.satisfied ? "satisfied" : "not-satisfied")),
                            ("reason", .string(a.satisfied ? "pass" : (a.applicable == 0 ? "other" : "fail"))),
                        ])
                    ),
                ])
            ),
            (
                "related-observations",
                JSONValue.nonEmpty(
                    a.evidenceIDs.filter { snapshot.evidence[$0] != nil }.map {
                        .obj([("observation-uuid", .string(observationUUID($0, a.framework.id)))])
                    })
            ),
        ])
    }

    static func exposureResult(_ snapshot: ComplianceSnapshot, digest: String) -> JSONValue {
        .obj([
            ("uuid", .string(NameUUID.make("result", "exposure", digest))),
            ("title", .string("Backdoor exposure of non-human identities")),
            (
                "description",
                .string(
                    snapshot.runID.map { "Critical and high exposures of scoring run \($0): credentials an upstream backdoored model could misuse." }
                        ?? "No scoring run existed at this date; run `sleeper score`.")
            ),
            ("start", .string(Timestamps.format(snapshot.asOf))),
            ("end", .string(Timestamps.format(snapshot.asOf))),
            (
                "reviewed-controls",
                .obj([
                    (
                        "control-selections",
                        .array([
                            .obj([
                                ("include-controls", .array(snapshot.catalog.controls.map { .obj([("control-id", .string(OSCAL.token($0.id)))]) }))
                            ])
                        ])
                    )
                ])
            ),
            ("risks", JSONValue.nonEmpty(snapshot.exposures.map { risk($0, snapshot) })),
        ])
    }

    static func riskUUID(_ e: Exposure, _ snapshot: ComplianceSnapshot) -> String {
        NameUUID.make("risk", e.credential, String(snapshot.runID ?? 0))
    }

    static func risk(_ e: Exposure, _ snapshot: ComplianceSnapshot) -> JSONValue {
        .obj([
            ("uuid", .string(riskUUID(e, snapshot))),
            ("title", .string("credential:\(e.credential) exposed to a backdoored model (score \(e.score), \(e.band))")),
            ("description", .string("Top path: \(e.path.joined(separator: " → ")). Main factor: \(e.mainFactor).")),
            (
                "statement",
                .string(
                    "If a model on this path carries a backdoor, its trigger can make the agent use this credential. Score \(e.score) = 100 · P \(String(format: "%.4f", e.p)) · impact \(String(format: "%.4f", e.impact)) · hygiene \(String(format: "%.4f", e.hygiene))."
                )
            ),
            ("props", OSCAL.props([("score", String(e.score)), ("band", e.band.rawValue), ("credential", e.credential), ("owner", e.owner)])),
            ("status", .string("open")),
        ])
    }
}
