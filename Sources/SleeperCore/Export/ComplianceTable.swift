import Foundation

/// The plain exports: one row per subject × applicable control, as RFC 4180 CSV for spreadsheets
/// and as JSON (with the exposures) for other tools. Column and field names are stable.
public enum ComplianceTable {
    public static let columns = [
        "subject_kind", "subject_key", "owner", "control", "control_name", "status",
        "evidence_id", "result", "recorded_at", "expires_at", "artifact_sha256", "framework_items",
    ]

    static func rows(_ snapshot: ComplianceSnapshot, framework: String?) -> [[Listing.Cell]] {
        snapshot.statuses.compactMap { row($0, snapshot, framework: framework) }
    }

    /// Lists stay lists: JSON arrays, and `;`-joined in CSV (`CSVText.listSeparator`).
    static func row(_ s: ControlStatus, _ snapshot: ComplianceSnapshot, framework: String?) -> [Listing.Cell]? {
        let items = framework.map { f in s.items.filter { $0.hasPrefix(f + ":") } } ?? s.items
        if framework != nil && items.isEmpty { return nil }
        let record = s.evidenceID.flatMap { snapshot.evidence[$0] }
        func text(_ v: String?) -> Listing.Cell { v.map(Listing.Cell.text) ?? .null }
        return [
            .text(s.subject.kind.rawValue), .text(s.subject.key), text(s.owner), .text(s.control), .text(s.controlName), .text(s.status.rawValue),
            s.evidenceID.map(Listing.Cell.integer) ?? .null, text(record?.result.rawValue), text(record.map { OSCAL.date($0.recordedAt) }),
            text(s.expiresAt.map(Timestamps.format)), record.map { .list($0.artifacts.map(\.sha256)) } ?? .list([]),
            .list(items),
        ]
    }

    public static func csv(_ snapshot: ComplianceSnapshot, framework: String? = nil) -> String {
        var out = ""
        csv(snapshot, framework: framework) { out += $0 }
        return out
    }

    /// The CSV in pieces of about `rowsPerPiece` rows, so a million-credential export can go to
    /// its file as it is made instead of being held whole.
    public static func csv(_ snapshot: ComplianceSnapshot, framework: String? = nil, rowsPerPiece: Int = 20_000, _ emit: (String) -> Void) {
        var out = columns.joined(separator: ",") + "\r\n"
        var pending = 0
        // The framework items are the control's, the same in every row of it: joined once.
        var itemCells: [String: String] = [:]
        snapshot.forEachStatus { s in
            guard let row = row(s, snapshot, framework: framework), let itemsCell = row.last else { return }
            let items = itemCells[s.control] ?? CSVText.cell(itemsCell)
            itemCells[s.control] = items
            out += row.dropLast().map(CSVText.cell).joined(separator: ",") + "," + items + "\r\n"
            pending += 1
            if pending == rowsPerPiece { emit(out); out = ""; pending = 0 }
        }
        emit(out)
    }

    public static func json(_ snapshot: ComplianceSnapshot, framework: String? = nil) -> String {
        let rows = rows(snapshot, framework: framework).map { row in
            JSONValue.object(
                zip(columns, row).map { name, cell in
                    switch cell {
                    case .list(let items): return (name, .array(items.map(JSONValue.string)))
                    case .integer(let i): return (name, .int(i))
                    case .null: return (name, .null)
                    default: return (name, .string(cell.plain))
                    }
                })
        }
        let exposures = snapshot.exposures.map { e in
            JSONValue.obj([
                ("credential", .string(e.credential)), ("score", .int(e.score)), ("band", .string(e.band.rawValue)),
                ("owner", e.owner.map(JSONValue.string) ?? .null), ("path", .array(e.path.map(JSONValue.string))),
                ("main_factor", .string(e.mainFactor)),
            ])
        }
        return JSONValue.obj([
            ("warning", snapshot.unverifiedBanner.map(JSONValue.string)),
            ("ledger_verified", .bool(snapshot.ledgerProblems.isEmpty)),
            ("as_of", .string(Timestamps.format(snapshot.asOf))),
            ("framework", framework.map(JSONValue.string) ?? .null),
            ("ledger_head", .string(snapshot.ledgerHead)),
            ("score_run", snapshot.runID.map(JSONValue.int) ?? .null),
            ("score_run_as_of", snapshot.runAsOf.map { .string(Timestamps.format($0)) } ?? .null),
            ("weights_version", .string(snapshot.weightsVersion)),
            ("evidence_basis", .string(snapshot.basis.rawValue)),
            ("sleeper_version", .string(snapshot.toolVersion)),
            ("controls", .array(rows)),
            ("exposures", .array(exposures)),
        ]).pretty()
    }
}
