import Foundation

/// The report's content independent of its format: titled sections of prose, tables and notes.
/// Markdown and HTML render the same sections, so the two cannot disagree.
struct ReportSection {
    enum Chart { case distribution, coverage, trend }
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
        return (snapshot.unverifiedBanner.map { $0 + " · " } ?? "") + "As of \(Timestamps.format(snapshot.asOf)) · \(runCitation) · weights \(weightsVersion) · Sleeper \(snapshot.toolVersion) ·\(snapshot.basis == .effective ? " evidence as known now about then (effective basis) ·" : "") evidence ledger head \(snapshot.ledgerHead.prefix(12))"
    }

    /// Each section opens with the banner when the ledger did not verify: a page printed alone still says so.
    func sections(whatIfLines: Int = 3) -> [ReportSection] {
        let all = [headline(), topExposures(whatIfLines: whatIfLines), changesSection(), gapsSection(), expiringSection(), unownedSection()]
        guard let banner = snapshot.unverifiedBanner else { return all }
        return all.map { var s = $0; s.intro = "**\(banner).**" + (s.intro.map { "\n\n" + $0 } ?? ""); return s }
    }

    func headline() -> ReportSection {
        var s = ReportSection(id: "headline", title: "Headline")
        if let r = latest {
            s.intro = (staleRunWarning.map { "**Warning:** \($0).\n\n" } ?? "") + "\(r.total) credentials scored: \(r.critical) critical, \(r.high) high, \(r.medium) medium, \(r.low) low."
            if runs.count >= 2 {
                let p = runs[runs.count - 2]
                s.intro! += " Critical and high were \(p.critical + p.high) in run \(p.id) and are \(r.critical + r.high) now."
            }
            s.chart = .distribution
            s.tables.append((nil, .init(columns: ["band", "credentials", "share"], rows: [
                ["critical", String(r.critical), pct(r.critical, r.total)], ["high", String(r.high), pct(r.high, r.total)],
                ["medium", String(r.medium), pct(r.medium, r.total)], ["low", String(r.low), pct(r.low, r.total)],
            ], numeric: [1, 2])))
        } else {
            s.intro = "No scoring run exists yet: run `sleeper score` before the review."
        }
        let cov = coverage()
        s.tables.append(("Coverage per framework: subject × item pairs with valid evidence of a mapped control, and items satisfied for every subject",
                         .init(columns: ["framework", "coverage", "pairs covered", "items satisfied"], rows: cov.map { c in
            ["\(c.framework.name) \(c.framework.edition)", String(format: "%.0f%%", c.percent),
             "\(c.subjectsCovered) / \(c.subjectsApplicable)", "\(c.itemsSatisfied) / \(c.itemsAssessed)"]
        }, numeric: [1, 2, 3])))
        return s
    }

    func topExposures(whatIfLines: Int) -> ReportSection {
        var s = ReportSection(id: "exposures", title: "Top exposures")
        guard !top.isEmpty else { s.intro = "No credentials are scored."; return s }
        s.intro = "The credentials a backdoored model could misuse most, with the path that contributes most (model → agent → credential → resource)."
        s.tables.append((nil, .init(columns: ["score", "band", "credential", "path", "owner", "main factor"], rows: top.map { e in
            [String(e.score), e.band, e.credential, e.path.joined(separator: " → "), e.owner ?? "(none)", e.mainFactor]
        }, numeric: [0])))
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
        s.intro = "Run \(since) → run \(now): \(worse.count) credentials got worse, \(better.count) got better."
        s.chart = runs.count >= 2 ? .trend : nil
        func rows(_ xs: [ScoreDiff.Row]) -> [[String]] {
            xs.prefix(10).map { [$0.credential, $0.before.map(String.init) ?? "–", $0.after.map(String.init) ?? "–",
                                 $0.change > 0 ? "+\($0.change)" : String($0.change), $0.reasons.joined(separator: "; ")] }
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
            s.tables.append(("\(c.framework.name) \(c.framework.edition)", .init(columns: ["item", "name", "covered", "missing most"], rows: c.gaps.map { a in
                let alias = a.item.isAlias ? " (alias of \(a.item.aliasOf.joined(separator: ", ")); not an OWASP number)" : ""
                return [a.item.id, a.item.name + alias, "\(a.covered) / \(a.applicable)",
                        a.openGapCounts.prefix(3).map { "\($0.control) ×\($0.count)" }.joined(separator: ", ")]
            }, numeric: [2])))
        }
        return s
    }

    func expiringSection() -> ReportSection {
        let rows = expiring()
        return capped(ReportSection(id: "expiring", title: "Evidence expiring in the next 30 days",
                                    intro: rows.isEmpty ? "No valid evidence expires in the next 30 days."
                                        : "\(rows.count) records lapse within 30 days; renew them before the next review."),
                      columns: ["expires", "subject", "control", "evidence", "owner"], rows: rows, more: " (`sleeper export csv` lists all)") {
            [Self.day($0.expiresAt!), $0.subject.description, $0.control, $0.evidenceID.map { "#\($0)" } ?? "", $0.owner ?? "(none)"]
        }
    }

    func unownedSection() -> ReportSection {
        let rows = unowned()
        return capped(ReportSection(id: "unowned", title: "Subjects without an owner",
                                    intro: rows.isEmpty ? "Every subject has an owner."
                                        : "\(rows.count) subjects have no owner: nobody is asked for their evidence or their rotation."),
                      columns: ["kind", "key"], rows: rows, more: "") { [$0.kind.rawValue, $0.key] }
    }

    /// A section listing at most 50 rows, with a note of how many more there are.
    private func capped<T>(_ section: ReportSection, columns: [String], rows: [T], more: String, _ cells: (T) -> [String]) -> ReportSection {
        var s = section
        guard !rows.isEmpty else { return s }
        s.tables.append((nil, .init(columns: columns, rows: rows.prefix(50).map(cells))))
        if rows.count > 50 { s.notes.append("… and \(rows.count - 50) more\(more).") }
        return s
    }

    private func pct(_ n: Int, _ total: Int) -> String { total == 0 ? "–" : String(format: "%.1f%%", 100 * Double(n) / Double(total)) }
}
