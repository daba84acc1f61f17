import Foundation
import Testing

@testable import SleeperCore

@Suite("Exports (pure)", .timeLimit(.minutes(2)))
struct ExportTests {
    @Test("name-based UUIDs follow RFC 9562 (v5) and are stable")
    func uuidV5() {
        let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        #expect(NameUUID.make(namespace: dns, name: "www.example.com").uuidString.lowercased() == "2ed6657d-e927-568b-95e1-2665a8aea6a2")
        #expect(NameUUID.make("finding", "atlas", "AML.T0018") == NameUUID.make("finding", "atlas", "AML.T0018"))
        #expect(NameUUID.make("finding", "atlas", "AML.T0018") != NameUUID.make("finding", "atlas", "AML.T0019"))
        #expect(NameUUID.make("a", "bc") != NameUUID.make("ab", "c"))
    }

    @Test("CSV fields are quoted as RFC 4180 says; text a spreadsheet would run as a formula is neutralised, numbers are not")
    func csvQuoting() {
        #expect(CSVText.text("plain") == "plain")
        #expect(CSVText.text("a,b") == "\"a,b\"")
        #expect(CSVText.text("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVText.text("two\nlines") == "\"two\nlines\"")
        for formula in ["=SUM(A1:A9)", "+1", "-2+3", "@cmd", "\tx", "\rx"] {
            #expect(CSVText.text(formula).hasPrefix("'") || CSVText.text(formula).hasPrefix("\"'"), "\(formula.debugDescription)")
        }
        #expect(CSVText.text("=1,2") == "\"'=1,2\"")
        #expect(CSVText.cell(.integer(-5)) == "-5")
        #expect(CSVText.cell(.list(["nist-ai-rmf:GOVERN 3.2", "owasp-llm:LLM01:2025"])) == "nist-ai-rmf:GOVERN 3.2;owasp-llm:LLM01:2025")
    }

    static let catalog = Catalog(
        frameworks: [
            Framework(
                id: "fw", name: "Framework", edition: "1", source: "https://example.org/fw", licence: "CC0",
                items: [
                    FrameworkItem(id: "I1", name: "one", description: "", kind: "item", parent: nil, aliasOf: [], mitigates: [], backdoorRelevant: true),
                    FrameworkItem(id: "I2", name: "two", description: "", kind: "item", parent: nil, aliasOf: [], mitigates: [], backdoorRelevant: true),
                    FrameworkItem(id: "A", name: "alias", description: "", kind: "alias", parent: nil, aliasOf: ["I1", "I2"], mitigates: [], backdoorRelevant: false),
                    FrameworkItem(id: "I3", name: "unmapped", description: "", kind: "item", parent: nil, aliasOf: [], mitigates: [], backdoorRelevant: false),
                ])
        ],
        controls: [
            Control(id: "C1", name: "scan", description: "", appliesTo: [.model], evidence: "scan", validityDays: 90, graceDays: 7),
            Control(id: "C2", name: "review", description: "", appliesTo: [.model], evidence: "attestation", validityDays: 90, graceDays: 7),
        ],
        mappings: [
            ControlMapping(control: "C1", framework: "fw", item: "I1", relationship: .subsetOf),
            ControlMapping(control: "C2", framework: "fw", item: "I1", relationship: .intersectsWith),
            ControlMapping(control: "C2", framework: "fw", item: "I2", relationship: .equivalentTo),
        ],
        crosswalkStatement: "test crosswalk")

    static func status(_ key: String, _ control: String, _ status: EvidenceStatus, _ evidence: Int? = nil) -> ControlStatus {
        ControlStatus(
            subject: Subject(kind: .model, key: key), owner: nil, control: control, controlName: control, status: status,
            evidenceID: evidence, expiresAt: nil, items: [])
    }

    @Test("an item is satisfied when every applicable subject has valid evidence of one mapped control")
    func satisfiedRule() {
        // m1: C1 valid. m2: C1 failed, C2 valid. m3: both missing.
        let snapshot = ComplianceSnapshot(
            asOf: Date(timeIntervalSince1970: 0), catalog: Self.catalog,
            statuses: [
                Self.status("m1", "C1", .valid, 1), Self.status("m1", "C2", .missing),
                Self.status("m2", "C1", .failed, 2), Self.status("m2", "C2", .valid, 3),
                Self.status("m3", "C1", .missing), Self.status("m3", "C2", .missing),
            ],
            evidence: [:], runID: nil, exposures: [], ledgerHead: "0")
        let a = snapshot.assessments(framework: Self.catalog.frameworks[0])
        // The alias A restates I1 and I2: shown by `coverage`, never assessed or counted on its own.
        #expect(a.map(\.item.id) == ["I1", "I2"])
        #expect(a.map(\.applicable) == [3, 3])
        #expect(a.map(\.covered) == [2, 1])
        #expect(a.allSatisfy { !$0.satisfied })
        #expect(a[0].evidenceIDs == [1, 2, 3])
        #expect(a[0].openGapSamples.map(\.subject.key) == ["m3", "m3"])
        #expect(a[0].openGapCounts.map(\.control) == ["C1", "C2"] && a[0].openGapTotal == 2)

        var fixed = snapshot
        fixed.statuses[4].status = .valid
        let b = fixed.assessments(framework: Self.catalog.frameworks[0])
        #expect(b.map(\.satisfied) == [true, false])
        #expect(fixed.digest != snapshot.digest)
    }
}

@Suite("Report rendering (pure)", .timeLimit(.minutes(2)))
struct ReportRenderingTests {
    static func report(owner: String?) -> ReviewReport {
        let snapshot = ComplianceSnapshot(
            asOf: Timestamps.parse("2026-11-25")!, catalog: ExportTests.catalog,
            statuses: [
                ControlStatus(
                    subject: Subject(kind: .model, key: "m|<1>"), owner: owner, control: "C1", controlName: "scan", status: .valid,
                    evidenceID: 1, expiresAt: Timestamps.parse("2026-12-05"), items: ["fw:I1"])
            ],
            evidence: [:], runID: 1,
            exposures: [], ledgerHead: String(repeating: "a", count: 64))
        let top = [
            Exposure(
                credential: "key|1", score: 70, band: .critical, p: 0.7, impact: 1, hygiene: 1, owner: nil,
                path: ["m|<1>", "agent", "key|1", "res"], mainFactor: "failed backdoor scan on m")
        ]
        return ReviewReport(
            snapshot: snapshot, weightsVersion: "w1",
            runs: [
                .init(id: 1, asOf: Timestamps.parse("2026-11-20")!, startedAt: Timestamps.parse("2026-11-20")!, critical: 0, high: 1, medium: 0, low: 0),
                .init(id: 2, asOf: Timestamps.parse("2026-11-25")!, startedAt: Timestamps.parse("2026-11-25")!, critical: 1, high: 0, medium: 0, low: 0),
            ],
            histogram: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0], top: top, explanations: [:], sinceRun: 1,
            changes: [ScoreDiff.Row(credential: "key|1", before: 40, after: 70, reasons: ["new failed backdoor scan on m"])],
            bandThresholds: (60, 35, 15))
    }

    @Test("Markdown escapes cell pipes and keeps one row per line")
    func markdown() {
        let md = ReportMarkdown.render(Self.report(owner: nil))
        #expect(md.contains("| 70 | critical | key\\|1 | m\\|<1> → agent → key\\|1 → res |"))
        #expect(md.contains("| key\\|1 | 40 | 70 | +30 | new failed backdoor scan on m |"))
        #expect(md.contains("| 2026-12-05 | model:m\\|<1> | C1 | valid | #1 | (none) |"))
        #expect(md.contains("| model | m\\|<1> |"))
        #expect(!ReportMarkdown.render(Self.report(owner: "team")).contains("| model | m\\|<1> |"))
    }

    @Test("the distribution's bins are split at the band edges, so no bar holds two bands; counts get thousands separators")
    func bandEdgeBins() {
        #expect(ReviewReport.edges(bands: (60, 35, 15)) == [0, 10, 15, 20, 30, 35, 40, 50, 60, 70, 80, 90, 101])
        var report = Self.report(owner: nil)
        report.histogramEdges = ReviewReport.edges(bands: (60, 35, 15))
        report.histogram = [0, 0, 0, 0, 2, 1234, 0, 0, 0, 1, 0, 0]
        let html = ReportHTML.render(report)
        #expect(html.contains("<title>30–34: 2 (medium)</title>") && html.contains("<title>35–39: 1,234 (high)</title>"), "\(html)")
        #expect(ReviewReport.n(1234567) == "1,234,567" && ReviewReport.n(999) == "999" && ReviewReport.n(1000) == "1,000")
    }

    @Test("the trend has one point per day (its last run), whole-number ticks, and end labels that do not overlap")
    func dailyTrend() {
        var report = Self.report(owner: nil)
        let day = Timestamps.parse("2026-12-07")!
        report.runs =
            (1...6).map { i in
                .init(id: i, asOf: day.addingTimeInterval(Double(i) * 60), startedAt: day.addingTimeInterval(Double(i) * 60), critical: 2, high: i == 6 ? 2 : 1, medium: 0, low: 0)
            } + [.init(id: 7, asOf: day.addingTimeInterval(86400), startedAt: day.addingTimeInterval(86400), critical: 2, high: 2, medium: 0, low: 0)]
        #expect(report.dailyRuns.map(\.id) == [6, 7])
        #expect(ReportCharts.niceTicks(2) == [0, 1, 2])
        let svg = ReportCharts.trend(report) ?? ""
        #expect(svg.components(separatedBy: "<circle").count - 1 == 4, "two days, two lines: \(svg)")
        let labels = svg.matches(of: /<text x="[0-9.]+" y="([0-9.]+)" fill="#[0-9a-f]+">(critical|high) 2<\/text>/).map { Double($0.1)! }
        #expect(labels.count == 2 && abs(labels[0] - labels[1]) >= 14, "\(labels)")
        #expect(ReportMarkdown.render(report).components(separatedBy: "| 2026-12-07 |").count - 1 == 1)
    }

    @Test("the HTML draws the top attack paths as one graph: each node once, edges in the credential's band colour")
    func attackPaths() {
        var report = Self.report(owner: nil)
        report.top = [
            Exposure(credential: "pay-key", score: 91, band: .critical, p: 0.9, impact: 1, hygiene: 1, owner: nil, path: ["m1", "a1", "pay-key", "payments"], mainFactor: "x"),
            Exposure(credential: "crm-key", score: 40, band: .high, p: 0.4, impact: 1, hygiene: 1, owner: nil, path: ["m1", "a0", "a2", "crm-key", "crm"], mainFactor: "y"),
        ]
        let svg = AttackPathGraph.svg(report) ?? ""
        #expect(svg.contains("aria-label=\"Top attack paths\""))
        #expect(svg.components(separatedBy: "<title>m1</title>").count - 1 == 1, "a model shared by two paths is one node")
        #expect(svg.components(separatedBy: "<path ").count - 1 == 7, "m1→a1→pay-key→payments, m1→a0→a2→crm-key→crm: 7 edges")
        #expect(svg.contains("stroke=\"#b3261e\"") && svg.contains("stroke=\"#e8710a\""))
        #expect(ReportHTML.render(report).contains("aria-label=\"Top attack paths\""))
        // A credential no model reaches has a path that starts at itself: nothing to draw, and no crash.
        report.top.append(Exposure(credential: "leaked", score: 0, band: .low, p: 0, impact: 1, hygiene: 1, owner: nil, path: ["leaked", "crm"], mainFactor: "z"))
        report.top.append(Exposure(credential: "alone", score: 0, band: .low, p: 0, impact: 0, hygiene: 1, owner: nil, path: ["alone"], mainFactor: "z"))
        #expect(AttackPathGraph.svg(report)?.contains("<title>leaked</title>") == false)
        #expect(ReportHTML.render(report).contains("aria-label=\"Top attack paths\""))
    }

    @Test("HTML escapes text and colours the distribution by band")
    func html() {
        let html = ReportHTML.render(Self.report(owner: nil))
        #expect(html.contains("m|&lt;1&gt;"))
        #expect(!html.contains("m|<1>"))
        #expect(html.contains("<title>70–79: 1 (critical)</title>"))
        #expect(html.contains("fill=\"#b3261e\"><title>70–79"), "a bar at 70 is in the critical band (60+)")
        #expect(html.contains("critical 1"))
    }
}
