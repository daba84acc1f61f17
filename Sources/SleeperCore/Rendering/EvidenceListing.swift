import Foundation

/// How ledger records, gaps and coverage are printed, by the CLI and the API alike.
public enum EvidenceListing {
    public static func recorded(_ records: [EvidenceRecord]) -> String {
        records.map { r in
            let what = r.result == .withdrawn ? "withdrew record \(r.supersedes!)" : "\(r.result.rawValue) for \(r.control) on \(r.subject)"
            let binding = r.subjectDigest.map { ", bound to digest \($0.prefix(19))…" } ?? ""
            let until = r.result == .withdrawn ? "" : ", valid until \(day(r.expiresAt))"
            // A record whose validity had lapsed before it reached the ledger counts for nothing: said at once.
            let lapsed =
                r.result != .withdrawn && r.expiresAt <= r.recordedAt
                ? "\nwarning: record \(r.id) had already expired (\(day(r.expiresAt))) when it was recorded; it counts for nothing" : ""
            return "recorded evidence \(r.id): \(what)\(until)\(binding)\(r.supersedes != nil && r.result != .withdrawn ? ", superseding record \(r.supersedes!)" : "")\(lapsed)\n"
        }.joined()
    }

    /// What a report said and how its rule judged it, before the record it became.
    public static func ingested(_ report: TestReport) -> String {
        var lines = ["\(report.tool): \(report.summary)", "rule: \(report.rule)"]
        lines += report.findings.map { "  \($0)" }
        lines.append("result: \(report.result.rawValue) (\(report.control))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func day(_ seconds: Int) -> String { Timestamps.formatDay(Date(timeIntervalSince1970: TimeInterval(seconds))) }

    /// Records with what is needed to say where each stands: the models' digests now, and when.
    public struct Listed: Sendable {
        public var records: [EvidenceRecord]
        /// Model key → its digest now (aliases included).
        public var currentDigests: [String: String]
        public var asOf: Date
        public init(records: [EvidenceRecord], currentDigests: [String: String], asOf: Date) {
            self.records = records
            self.currentDigests = currentDigests
            self.asOf = asOf
        }
    }

    /// Where a record stands: `withdrawn` (or a withdrawal), `superseded`, `expired`, `other
    /// bytes` (a model record bound to a digest the model no longer has), else `current`.
    static func standing(_ r: EvidenceRecord, supersededBy: Int?, withdrawnBy: Bool, _ listed: Listed) -> String {
        if r.result == .withdrawn || withdrawnBy { return "withdrawn" }
        if supersededBy != nil { return "superseded" }
        if TimeInterval(r.expiresAt) <= listed.asOf.timeIntervalSince1970 { return "expired" }
        if r.subject.kind == .model, let bound = r.subjectDigest, let now = listed.currentDigests[r.subject.key], bound != now { return "other bytes" }
        return "current"
    }

    public static func records(_ listed: Listed, includeSuperseded: Bool) -> Listing {
        let records = listed.records
        let supersededBy = Dictionary(records.compactMap { r in r.supersedes.map { ($0, r.id) } }, uniquingKeysWith: min)
        let withdrawn = Set(records.filter { $0.result == .withdrawn }.compactMap(\.supersedes))
        let shown = includeSuperseded ? records : records.filter { supersededBy[$0.id] == nil && $0.result != .withdrawn }
        return Listing(
            columns: [
                "id", "subject", "control", "result", "standing", "digest", "effective", "expires", "recorded", "by", "artifacts",
                "covered_files", "supersedes", "superseded_by", "note",
            ],
            rows: shown.map { r in
                [
                    .integer(r.id), .text(r.subject.description), .text(r.control), .text(r.result.rawValue),
                    .text(standing(r, supersededBy: supersededBy[r.id], withdrawnBy: withdrawn.contains(r.id), listed)),
                    r.subjectDigest.map(Listing.Cell.text) ?? .null, .text(day(r.effectiveAt)),
                    .text(day(r.expiresAt)), .text(Timestamps.format(Date(timeIntervalSince1970: TimeInterval(r.recordedAt)))),
                    r.recordedBy.map(Listing.Cell.text) ?? .null, .list(r.artifacts.map { "\($0.name) sha256:\($0.sha256.prefix(12))…" }),
                    .list(r.coveredFiles), r.supersedes.map(Listing.Cell.integer) ?? .null, supersededBy[r.id].map(Listing.Cell.integer) ?? .null,
                    r.note.map(Listing.Cell.text) ?? .null,
                ]
            })
    }

    public static func gaps(_ gaps: [ControlStatus], byFramework: Bool) -> Listing {
        func expiry(_ g: ControlStatus) -> Listing.Cell { g.expiresAt.map { .text(Timestamps.formatDay($0)) } ?? .null }
        func accepted(_ g: ControlStatus) -> [Listing.Cell] {
            [g.acceptedUntil.map { .text(Timestamps.formatDay($0)) } ?? .null, g.acceptedBy.map(Listing.Cell.text) ?? .null]
        }
        if byFramework {
            var rows: [[Listing.Cell]] = []
            var order: [String] = []
            var byItem: [String: [ControlStatus]] = [:]
            for g in gaps { for item in g.items { if byItem[item] == nil { order.append(item) }; byItem[item, default: []].append(g) } }
            for item in order {
                for g in byItem[item]! {
                    rows.append(
                        [
                            .text(String(item.split(separator: ":", maxSplits: 1)[1])), .text(g.subject.description), .text(g.control),
                            .text(g.status.rawValue), g.evidenceID.map(Listing.Cell.integer) ?? .null, expiry(g),
                        ] + accepted(g)
                            + [g.owner.map(Listing.Cell.text) ?? .null])
                }
            }
            return Listing(columns: ["item", "subject", "control", "status", "evidence", "expires", "accepted_until", "accepted_by", "owner"], rows: rows)
        }
        return Listing(
            columns: ["subject", "control", "status", "evidence", "expires", "accepted_until", "accepted_by", "owner", "items", "failed_files"],
            rows: gaps.map { g in
                [.text(g.subject.description), .text(g.control), .text(g.status.rawValue), g.evidenceID.map(Listing.Cell.integer) ?? .null, expiry(g)]
                    + accepted(g) + [g.owner.map(Listing.Cell.text) ?? .null, .list(g.items), .list(g.failedFiles)]
            })
    }

    /// The summary of gaps: subjects per control and status, or with `framework` per item of it
    /// (a control counted under each item it would satisfy), items in the order first met.
    public static func gapSummary(_ counts: [GapCount], framework: String?) -> Listing {
        guard let framework else {
            return Listing(
                columns: ["control", "name", "status", "subjects"],
                rows: counts.map { c in
                    [.text(c.control), .text(c.name), .text(c.status.rawValue), .integer(c.subjects)]
                })
        }
        var order: [String] = [], byItem: [String: [GapCount]] = [:]
        for c in counts {
            for item in c.items where item.hasPrefix(framework + ":") {
                if byItem[item] == nil { order.append(item) }
                byItem[item, default: []].append(c)
            }
        }
        return Listing(
            columns: ["item", "control", "status", "subjects"],
            rows: order.flatMap { item in
                (byItem[item] ?? []).map { c in [.text(String(item.dropFirst(framework.count + 1))), .text(c.control), .text(c.status.rawValue), .integer(c.subjects)] }
            })
    }

    public static func coverage(_ rows: [ItemCoverage], framework: String, asOf: Date, format: OutputFormat) -> String {
        // Aliases restate other items; counting them in the overall figure would count subjects twice.
        let counted = rows.filter { !$0.isAlias && $0.applicable > 0 }
        let applicable = counted.reduce(0) { $0 + $1.applicable }, covered = counted.reduce(0) { $0 + $1.covered }
        let overall = applicable == 0 ? nil : 100 * Double(covered) / Double(applicable)
        func pct(_ p: Double?) -> Listing.Cell { p.map { .text(String(format: "%.1f%%", $0)) } ?? .null }
        let listing = Listing(
            columns: ["item", "name", "covered", "applicable", "percent"],
            rows: rows.map {
                [.text($0.item), .text($0.isAlias ? $0.name : $0.name), .integer($0.covered), .integer($0.applicable), pct($0.percent)]
            })
        switch format {
        case .json:
            let items = rows.map {
                "{\"item\": \(JSONText.string($0.item)), \"name\": \(JSONText.string($0.name)), \"alias\": \($0.isAlias), \"covered\": \($0.covered), \"applicable\": \($0.applicable), \"percent\": \($0.percent.map { JSONText.number(($0 * 10).rounded() / 10) } ?? "null")}"
            }
            return
                "{\"framework\": \(JSONText.string(framework)), \"as_of\": \(JSONText.string(Timestamps.format(asOf))),\n \"overall\": {\"covered\": \(covered), \"applicable\": \(applicable), \"percent\": \(overall.map { JSONText.number(($0 * 10).rounded() / 10) } ?? "null")},\n \"items\": [\n  "
                + items.joined(separator: ",\n  ") + "\n]}\n"
        case .csv:
            return ListingRenderer.csv(listing)
        case .table, .markdown:
            let line = "overall: \(covered) of \(applicable) subject-item pairs covered" + (overall.map { String(format: " (%.1f%%)", $0) } ?? "") + ", as of \(Timestamps.format(asOf))\n"
            return ListingRenderer.render(listing, as: format) + line
        }
    }
}

/// The exposure list and its diff, by the CLI and the API alike.
public enum ExposureListing {
    public static func exposures(_ rows: [Exposure]) -> Listing {
        Listing(
            columns: ["credential", "score", "raw", "band", "path", "owner", "main_factor", "p", "impact", "hygiene"],
            rows: rows.map {
                [
                    .text($0.credential), .integer($0.score), .number(($0.raw * 10000).rounded() / 10000), .text($0.band.rawValue), .path($0.path), $0.owner.map(Listing.Cell.text) ?? .null,
                    .text($0.mainFactor), .number(($0.p * 10000).rounded() / 10000), .number($0.impact), .number(($0.hygiene * 100).rounded() / 100),
                ]
            })
    }

    public static let tableColumns = ["credential", "score", "raw", "band", "path", "owner", "main_factor"]

    public static func diff(_ rows: [ScoreDiff.Row]) -> Listing {
        Listing(
            columns: ["credential", "before", "after", "change", "why"],
            rows: rows.map {
                [
                    .text($0.credential), $0.before.map(Listing.Cell.integer) ?? .null, $0.after.map(Listing.Cell.integer) ?? .null,
                    .integer($0.change), .text($0.reasons.joined(separator: "; ")),
                ]
            })
    }
}
