import Foundation

/// The report's content independent of its format: titled sections of prose, tables and notes.
/// Markdown and HTML render the same sections, so the two cannot disagree.
struct ReportSection {
    enum Chart { case distribution, coverage, trend, paths }
    struct Table {
        var columns: [String]
        var rows: [[String]]
        /// Column indexes that hold numbers (right-aligned).
        var numeric: Set<Int> = []
    }
    var id: String
    var title: String
    var intro: String?
    var chart: Chart?
    var tables: [(caption: String?, table: Table)] = []
    var notes: [String] = []
}

extension ReviewReport {
    static func day(_ d: Date) -> String { Timestamps.formatDay(d) }

    var title: String { "Backdoor exposure review, \(Self.day(snapshot.asOf))" }

    var subtitle: String {
        return (snapshot.unverifiedBanner.map { $0 + " · " } ?? "")
            + "As of \(Timestamps.format(snapshot.asOf)) · \(runCitation) · weights \(weightsVersion) · Sleeper \(snapshot.toolVersion) ·\(snapshot.basis == .effective ? " evidence as known now about then (effective basis) ·" : "") evidence ledger head \(snapshot.ledgerHead.prefix(12))"
    }

    /// Each section opens with the banner when the ledger did not verify: a page printed alone still says so.
    func sections(whatIfLines: Int = 3) -> [ReportSection] {
        let all = [
            agenda(), headline(), wrongSection(), actionsSection(), acceptedSection(), topExposures(whatIfLines: whatIfLines), changesSection(),
            gapsSection(), expiringSection(), unownedSection(),
        ]
        guard let banner = snapshot.unverifiedBanner else { return all }
        return all.map {
            var s = $0; s.intro = "**\(banner).**" + (s.intro.map { "\n\n" + $0 } ?? ""); return s
        }
    }

    /// What to do: the few open actions that lower risk most, with owner and due date; without a
    /// recall, the valid evidence that would lower the worst exposures most.
    func agenda() -> ReportSection {
        var s = ReportSection(id: "agenda", title: "What to do")
        let next = nextActions()
        let overdue = next.filter { $0.overdue(at: snapshot.asOf) }
        // The causes first: what an agent did, what a check found, what leaked.
        let causes = causeRows()
        if !causes.isEmpty {
            s.tables.append(("The causes, first", .init(columns: ["do", "who", "credential at stake"], rows: causes)))
        }
        if !next.isEmpty {
            s.intro =
                "\(Self.n(next.count)) remediation action(s) are open\(overdue.isEmpty ? "" : ", \(Self.n(overdue.count)) of them overdue")."
                + (causes.isEmpty ? " Take these first:" : " The causes first, then these:")
            s.tables.append(
                (
                    causes.isEmpty ? nil : "Then the actions",
                    .init(
                        columns: ["action", "owner", "band", "due"],
                        rows: next.prefix(5).map { a in
                            [ActionTickets.summary(a), a.owner ?? "unowned", a.band.rawValue, Self.day(a.due) + (a.overdue(at: snapshot.asOf) ? " (overdue)" : "")]
                        })
                ))
        } else {
            // Only what changes something: at a score capped at 100 the effect is read on the raw
            // risk (P·I·H), and an item that lowers neither is never recommended.
            let suggestions = top.compactMap { e -> (effect: Double, row: [String])? in
                guard let w = explanations[e.credential]?.whatIf.max(by: { (e.raw - $0.rawAfter) < (e.raw - $1.rawAfter) }) else { return nil }
                let effect = e.raw - w.rawAfter
                guard w.reduction > 0 || effect > 1e-9 else { return nil }
                let change = w.reduction > 0 ? "\(e.score) → \(w.scoreAfter)" : "\(e.score) (raw \(String(format: "%.3f", e.raw)) → \(String(format: "%.3f", w.rawAfter)))"
                return (effect, ["valid evidence of \(w.control) on \(w.subject)", e.owner ?? "unowned", "\(e.credential) \(change)"])
            }.sorted { $0.effect > $1.effect }.prefix(3).map(\.row)
            s.intro =
                (causes.isEmpty ? "" : "Address the causes first. ")
                + (snapshot.actions.isEmpty ? "No recall stands and no remediation action is open." : "Every remediation action is done or accepted.")
            if !suggestions.isEmpty {
                s.tables.append(("What would lower the worst exposures most", .init(columns: ["record", "owner of the credential", "score"], rows: suggestions)))
            }
        }
        let lapsing = snapshot.acceptances.filter { $0.until <= snapshot.asOf.addingTimeInterval(14 * 86400) }
        if !lapsing.isEmpty { s.notes.append("\(Self.n(lapsing.count)) accepted risk(s) lapse within 14 days: decide again or fix.") }
        let lapsedEvidence = lapsed()
        if !lapsedEvidence.isEmpty { s.notes.append("\(Self.n(lapsedEvidence.count)) evidence record(s) expired in the last 30 days or are in their grace period: renew them.") }
        return s
    }

    func actionsSection() -> ReportSection {
        var s = ReportSection(id: "actions", title: "Remediation actions")
        let open = snapshot.actions.filter { !$0.status.isClosed }
        guard !snapshot.actions.isEmpty else { s.intro = "No recall has made actions."; return s }
        let done = snapshot.actions.filter { $0.status == .done }.count
        let cancelled = snapshot.actions.filter { $0.status == .cancelled }
        let overdue = open.filter { $0.overdue(at: snapshot.asOf) }
        s.intro =
            "\(Self.n(snapshot.actions.count)) action(s): \(Self.n(open.count)) not done (\(Self.n(overdue.count)) overdue), \(Self.n(done)) done"
            + (cancelled.isEmpty ? "" : ", \(Self.n(cancelled.count)) cancelled when their recall was released (not done)") + ". Actions close from evidence, not by hand."
        let columns = ["id", "action", "owner", "band", "due", "status"]
        func row(_ a: RemediationAction) -> [String] {
            ["#\(a.id)", ActionTickets.summary(a), a.owner ?? "unowned", a.band.rawValue, Self.day(a.due), a.status.rawValue]
        }
        if !overdue.isEmpty { s.tables.append(("Overdue", .init(columns: columns, rows: overdue.prefix(50).map(row), numeric: [0]))) }
        let rest = open.filter { !$0.overdue(at: snapshot.asOf) }
        if !rest.isEmpty { s.tables.append(("Open", .init(columns: columns, rows: rest.prefix(50).map(row), numeric: [0]))) }
        if !cancelled.isEmpty {
            s.tables.append(("Cancelled (their recall was released; not done)", .init(columns: columns + ["why"], rows: cancelled.prefix(50).map { row($0) + [$0.closedBecause ?? ""] }, numeric: [0])))
        }
        if open.count > 100 { s.notes.append("… \(Self.n(open.count - min(50, overdue.count) - min(50, rest.count))) more (`sleeper actions` lists all).") }
        return s
    }

    func acceptedSection() -> ReportSection {
        var s = ReportSection(id: "accepted", title: "Accepted risks")
        guard !snapshot.acceptances.isEmpty else { s.intro = "No risk is accepted."; return s }
        s.intro = "\(Self.n(snapshot.acceptances.count)) accepted risk(s), soonest to lapse first; each lapses by itself on its date."
        s.tables.append(
            (
                nil,
                .init(
                    columns: ["subject", "accepted", "band", "approved by", "until", "lapses in"],
                    rows: snapshot.acceptances.prefix(50).map { a in
                        [a.subject.description, a.target, a.band.rawValue, a.by, Self.day(a.until), "\(Int((a.until.timeIntervalSince(snapshot.asOf) / 86400).rounded(.up))) d"]
                    }, numeric: [5])
            ))
        return s
    }

    func headline() -> ReportSection {
        var s = ReportSection(id: "headline", title: "Where the estate stands")
        if let r = latest {
            s.intro =
                (staleRunWarning.map { "**Warning:** \($0).\n\n" } ?? "")
                + "\(Self.n(r.total)) credentials scored: \(Self.n(r.critical)) critical, \(Self.n(r.high)) high, \(Self.n(r.medium)) medium, \(Self.n(r.low)) low."
            if runs.count >= 2 {
                let p = runs[runs.count - 2]
                s.intro! += " Critical and high were \(Self.n(p.critical + p.high)) on \(Self.day(p.asOf)) (run \(p.id)) and are \(Self.n(r.critical + r.high)) now."
            }
            s.chart = .distribution
            s.tables.append(
                (
                    nil,
                    .init(
                        columns: ["band", "credentials", "share"],
                        rows: Band.allCases.map { band in
                            [band.rawValue, Self.n(r[band: band]), pct(r[band: band], r.total)]
                        }, numeric: [1, 2])
                ))
        } else {
            s.intro = "No scoring run exists yet: run `sleeper score` before the review."
        }
        let cov = coverage()
        s.tables.append(
            (
                "Coverage per framework: subject × item pairs with valid evidence of a mapped control, and items satisfied for every subject",
                .init(
                    columns: ["framework", "coverage", "pairs covered", "items satisfied"],
                    rows: cov.map { c in
                        [
                            "\(c.framework.name) \(c.framework.edition)", String(format: "%.0f%%", c.percent),
                            "\(Self.n(c.subjectsCovered)) / \(Self.n(c.subjectsApplicable))", "\(Self.n(c.itemsSatisfied)) / \(Self.n(c.itemsAssessed))",
                        ]
                    }, numeric: [1, 2, 3])
            ))
        return s
    }

    func topExposures(whatIfLines: Int) -> ReportSection {
        var s = ReportSection(id: "exposures", title: "Top exposures")
        guard !top.isEmpty else { s.intro = "No credentials are scored."; return s }
        s.intro = "The credentials a backdoored model could misuse most, with the path that contributes most (model → agent → credential → resource)."
        s.chart = .paths
        s.tables.append(
            (
                nil,
                .init(
                    columns: ["score", "band", "credential", "path", "owner", "main factor"],
                    rows: top.map { e in
                        [String(e.score), e.band.rawValue, e.credential, e.path.joined(separator: " → "), e.owner ?? "(none)", e.mainFactor]
                    }, numeric: [0])
            ))
        for e in top {
            guard let x = explanations[e.credential], !x.whatIf.isEmpty else { continue }
            let lines = x.whatIf.prefix(whatIfLines).map { w in
                "valid evidence of \(w.control) on \(w.subject) (now \(w.status)) → \(w.scoreAfter) (−\(w.reduction))"
            }
            s.notes.append("What would lower \(e.credential) (\(e.score)) most: " + lines.joined(separator: "; ") + ".")
        }
        return s
    }

    func changesSection() -> ReportSection {
        var s = ReportSection(id: "changes", title: "Changes since the last review")
        guard let since = sinceRun, let now = latest?.id else {
            s.intro = runs.count < 2 ? "Only one scoring run exists: nothing to compare yet." : "No earlier run to compare against."
            return s
        }
        let worse = changes.filter { $0.change > 0 }, better = changes.filter { $0.change < 0 }
        let cited = sinceCitedOn.map { " (the run the review of \(Self.day($0)) cited)" } ?? ""
        s.intro = "Run \(since)\(cited) → run \(now): \(worse.count) credentials got worse, \(better.count) got better."
        s.chart = dailyRuns.count >= 2 ? .trend : nil
        func rows(_ xs: [ScoreDiff.Row]) -> [[String]] {
            xs.prefix(10).map {
                [
                    $0.credential, $0.before.map(String.init) ?? "–", $0.after.map(String.init) ?? "–",
                    $0.change > 0 ? "+\($0.change)" : String($0.change), $0.reasons.joined(separator: "; "),
                ]
            }
        }
        let columns = ["credential", "before", "after", "change", "why"]
        if !worse.isEmpty { s.tables.append(("Worse\(worse.count > 10 ? " (10 of \(worse.count))" : "")", .init(columns: columns, rows: rows(worse), numeric: [1, 2, 3]))) }
        if !better.isEmpty { s.tables.append(("Better\(better.count > 10 ? " (10 of \(better.count))" : "")", .init(columns: columns, rows: rows(better), numeric: [1, 2, 3]))) }
        return s
    }

    func gapsSection() -> ReportSection {
        var s = ReportSection(id: "gaps", title: "Gaps by framework item")
        s.chart = .coverage
        s.intro = "Items where some subject lacks valid evidence of every mapped control, with the controls missing most often."
        for c in coverage() where !c.gaps.isEmpty {
            s.tables.append(
                (
                    "\(c.framework.name) \(c.framework.edition)",
                    .init(
                        columns: ["item", "name", "covered", "missing most"],
                        rows: c.gaps.map { a in
                            let alias = a.item.isAlias ? " (alias of \(a.item.aliasOf.joined(separator: ", ")); not an OWASP number)" : ""
                            return [
                                a.item.id, a.item.name + alias, "\(a.covered) / \(a.applicable)",
                                a.openGapCounts.prefix(3).map { "\($0.control) ×\($0.count)" }.joined(separator: ", "),
                            ]
                        }, numeric: [2])
                ))
        }
        return s
    }

    func expiringSection() -> ReportSection {
        let lapsed = lapsed(), rows = expiring()
        var s = ReportSection(
            id: "expiring", title: "Evidence that lapsed or is about to",
            intro: lapsed.isEmpty && rows.isEmpty
                ? "No evidence expired in the last 30 days, none is in its grace period and none expires in the next 30 days."
                : "\(Self.n(lapsed.count)) record(s) expired in the last 30 days or are in their grace period; \(Self.n(rows.count)) lapse within 30 days. Renew them before the next review.")
        func cells(_ g: ControlStatus) -> [String] {
            [g.expiresAt.map(Self.day) ?? "", g.subject.description, g.control, g.status.rawValue, g.evidenceID.map { "#\($0)" } ?? "", g.owner ?? "(none)"]
        }
        let columns = ["expires", "subject", "control", "status", "evidence", "owner"]
        if !lapsed.isEmpty { s.tables.append(("Expired or in grace", .init(columns: columns, rows: lapsed.prefix(50).map(cells)))) }
        if !rows.isEmpty { s.tables.append(("Expiring in the next 30 days", .init(columns: columns, rows: rows.prefix(50).map(cells)))) }
        if lapsed.count > 50 || rows.count > 50 { s.notes.append("Only the first 50 of each are listed (`sleeper export csv` lists all).") }
        return s
    }

    func unownedSection() -> ReportSection {
        let rows = unowned(), count = unownedCount
        let scores = Dictionary(snapshot.exposures.map { ($0.credential, "\($0.score) (\($0.band))") }, uniquingKeysWith: { a, _ in a })
        func score(_ s: Subject) -> String {
            if s.kind == .credential { return scores[s.key] ?? "" }
            // A model, agent or dataset: the riskiest credential it reaches.
            guard let r = problems.reach[s.description] else { return "no credential reached" }
            return "\(r.score) (\(band(forScore: r.score))) via \(r.credential)"
        }
        return capped(
            ReportSection(
                id: "unowned", title: "Subjects without an owner",
                intro: count == 0
                    ? "Every subject has an owner."
                    : "\(Self.n(count)) subjects have no owner, riskiest first: nobody is asked for their evidence or their rotation."),
            columns: ["kind", "key", "score (for a model, agent or dataset: the riskiest credential it reaches)"], rows: rows, total: count, more: ""
        ) {
            [$0.kind.rawValue, $0.key, score($0)]
        }
    }

    /// A section listing at most 50 rows, with a note of how many more there are.
    /// `total`: how many rows there are when `rows` holds only the first of them.
    private func capped<T>(_ section: ReportSection, columns: [String], rows: [T], total: Int? = nil, more: String, _ cells: (T) -> [String]) -> ReportSection {
        var s = section
        guard !rows.isEmpty else { return s }
        s.tables.append((nil, .init(columns: columns, rows: rows.prefix(50).map(cells))))
        let count = total ?? rows.count
        if count > 50 { s.notes.append("… and \(count - 50) more\(more).") }
        return s
    }

    private func pct(_ n: Int, _ total: Int) -> String { total == 0 ? "–" : String(format: "%.1f%%", 100 * Double(n) / Double(total)) }
}
