import Foundation

/// Remediation plans and actions as tables, CSV, JSON and Markdown.
public enum ActionListing {
    static func day(_ d: Date) -> Listing.Cell { .text(Timestamps.formatDay(d)) }

    /// A recall's plan, before or as it was recorded.
    public static func plan(_ actions: [PlannedAction]) -> Listing {
        Listing(columns: ["rank", "subject", "action", "owner", "band", "score", "due"], rows: actions.enumerated().map { i, a in
            [.integer(i + 1), .text(a.subject.description), .text(a.action.rawValue), .text(a.owner ?? "unowned"), .text(a.band.rawValue),
             a.score.map(Listing.Cell.integer) ?? .null, day(a.due)]
        })
    }

    public static func actions(_ actions: [RemediationAction], asOf: Date) -> Listing {
        Listing(columns: ["id", "recall", "subject", "action", "owner", "band", "score", "due", "status", "overdue", "accepted_until",
                          "accepted_by", "closed", "closed_because"],
                rows: actions.map { a in
            [.integer(a.id), .integer(a.recall), .text(a.subject.description), .text(a.action.rawValue), .text(a.owner ?? "unowned"),
             .text(a.band.rawValue), a.score.map(Listing.Cell.integer) ?? .null, day(a.due), .text(a.status.rawValue), .bool(a.overdue(at: asOf)),
             a.acceptedUntil.map(day) ?? .null, a.acceptedBy.map(Listing.Cell.text) ?? .null, a.closed.map(day) ?? .null,
             a.closedBecause.map(Listing.Cell.text) ?? .null]
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
