import Foundation

/// Remediation plans and actions as tables, CSV, JSON and Markdown.
public enum ActionListing {
    static func day(_ d: Date) -> Listing.Cell { .text(Timestamps.formatDay(d)) }

    /// A recall's plan, before or as it was recorded.
    public static func plan(_ actions: [PlannedAction]) -> Listing {
        Listing(
            columns: ["rank", "subject", "action", "owner", "band", "score", "due"],
            rows: actions.enumerated().map { i, a in
                [
                    .integer(i + 1), .text(a.subject.description), .text(a.action.rawValue), .text(a.owner ?? "unowned"), .text(a.band.rawValue),
                    a.score.map(Listing.Cell.integer) ?? .null, day(a.due),
                ]
            })
    }

    public static func actions(_ actions: [RemediationAction], asOf: Date) -> Listing {
        Listing(
            columns: [
                "id", "recall", "subject", "action", "owner", "band", "score", "due", "status", "overdue", "accepted_until",
                "accepted_by", "closed", "closed_because",
            ],
            rows: actions.map { a in
                [
                    .integer(a.id), .integer(a.recall), .text(a.subject.description), .text(a.action.rawValue), .text(a.owner ?? "unowned"),
                    .text(a.band.rawValue), a.score.map(Listing.Cell.integer) ?? .null, day(a.due), .text(a.status.rawValue), .bool(a.overdue(at: asOf)),
                    a.acceptedUntil.map(day) ?? .null, a.acceptedBy.map(Listing.Cell.text) ?? .null, a.closed.map(day) ?? .null,
                    a.closedBecause.map(Listing.Cell.text) ?? .null,
                ]
            })
    }

    /// One line per band: how many actions, and when the first is due.
    public static func summary(_ plan: [PlannedAction]) -> String {
        let unowned = plan.filter { $0.owner == nil }.count
        let byBand = Band.allCases.compactMap { band -> String? in
            let n = plan.filter { $0.band == band }
            guard let first = n.map(\.due).min() else { return nil }
            return "\(n.count) \(band.rawValue) (due by \(Timestamps.formatDay(first)))"
        }
        return "\(plan.count) action(s): " + (byBand.isEmpty ? "none" : byBand.joined(separator: ", ")) + (unowned > 0 ? "; \(unowned) unowned" : "")
    }
}

/// Actions as tickets: a Jira CSV import file, or JSON for any ticket system.
public enum ActionTickets {
    public enum Format: String, CaseIterable, Sendable {
        case jiraCSV = "jira-csv", json
    }

    /// Jira's priorities for Sleeper's bands.
    static let priority: [Band: String] = [.critical: "Highest", .high: "High", .medium: "Medium", .low: "Low"]

    public static func summary(_ a: RemediationAction) -> String {
        switch a.action {
        case .rotateOrRevoke: return "Rotate or revoke \(a.subject.key) (recall #\(a.recall))"
        case .disableOrRepoint: return "Disable or re-point agent \(a.subject.key) (recall #\(a.recall))"
        case .replace: return "Replace model \(a.subject.key) (recall #\(a.recall))"
        }
    }

    public static func description(_ a: RemediationAction) -> String {
        let closes: String
        switch a.action {
        case .rotateOrRevoke:
            closes = "It closes when SLP-ROTATION evidence effective after the recall is recorded, when a source shows a rotation after it, or when no recalled agent holds the credential."
        case .disableOrRepoint: closes = "It closes when the agent uses no recalled model and takes input from no recalled agent, or leaves the inventory."
        case .replace: closes = "It closes when the model's digest changes (a replacement) or it leaves the inventory."
        }
        let score = a.score.map { ", score \($0)" } ?? ""
        var state = ""
        if a.status == .accepted, let until = a.acceptedUntil { state = " Accepted until \(Timestamps.formatDay(until)) by \(a.acceptedBy ?? "an approver")." }
        if a.status == .cancelled { state = " Cancelled, not done: \(a.closedBecause ?? "its recall was released")." }
        return "Sleeper action #\(a.id), \(a.band.rawValue)\(score), due \(Timestamps.formatDay(a.due)). \(closes)\(state)"
    }

    public static func render(_ actions: [RemediationAction], as format: Format) -> String {
        switch format {
        case .jiraCSV:
            let header = ["Summary", "Description", "Issue Type", "Priority", "Due Date", "Labels", "Team", "External ID"]
            var out = header.map(CSVText.quoted).joined(separator: ",") + "\r\n"
            for a in actions {
                out += CSVText.row([
                    .text(summary(a)), .text(description(a)), .text("Task"), .text(priority[a.band] ?? "Medium"),
                    .text(Timestamps.formatDay(a.due)), .text("sleeper recall-\(a.recall) \(a.band.rawValue)" + (a.status == .open ? "" : " \(a.status.rawValue)")),
                    // Jira's Team names a real team: an unowned action leaves it empty to be triaged.
                    a.owner.map(Listing.Cell.text) ?? .null, .text("sleeper-action-\(a.id)"),
                ])
            }
            return out
        case .json:
            let items = actions.map { a in
                JSONValue.obj([
                    ("id", .int(a.id)), ("external_id", .string("sleeper-action-\(a.id)")), ("summary", .string(summary(a))),
                    ("description", .string(description(a))), ("subject", .string(a.subject.description)), ("action", .string(a.action.rawValue)),
                    ("owner", .string(a.owner ?? "unowned")), ("band", .string(a.band.rawValue)), ("priority", .string(priority[a.band] ?? "Medium")),
                    ("score", a.score.map(JSONValue.int)), ("due", .string(Timestamps.formatDay(a.due))), ("status", .string(a.status.rawValue)),
                    ("recall", .int(a.recall)), ("accepted_until", a.acceptedUntil.map { .string(Timestamps.formatDay($0)) }),
                    ("accepted_by", a.acceptedBy.map(JSONValue.string)),
                ])
            }
            return JSONValue.array(items).pretty() + "\n"
        }
    }
}
