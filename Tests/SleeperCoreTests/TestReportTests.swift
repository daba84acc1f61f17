import Foundation
import SleeperCore
import Testing

/// The reports of model-testing tools: the tools' own test assets where they publish them, and
/// reports written field for field as their sources write them; every rule and every refusal.
@Suite("Reports of model-testing tools", .timeLimit(.minutes(2)))
struct TestReportTests {
    static let folder = ShippedCatalog.root.appending(path: "Tests/Fixtures/reports")
    static var rules: ReportRules {
        get throws { try ReportRules.read(Data(contentsOf: ShippedCatalog.root.appending(path: "Controls/report-rules.yaml"))).get() }
    }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: folder.appending(path: name)) }

    static func read(_ name: String, format: ReportFormat? = nil, rules: ReportRules? = nil, control: String? = nil) throws -> Result<TestReport, InventoryProblems> {
        TestReportReader.read(try data(name), file: name, format: format, rules: try rules ?? Self.rules, control: control)
    }

    static func report(_ name: String, format: ReportFormat? = nil, rules: ReportRules? = nil, control: String? = nil) throws -> TestReport {
        try read(name, format: format, rules: rules, control: control).get()
    }

    static func problem(_ name: String, format: ReportFormat? = nil, rules: ReportRules? = nil, control: String? = nil) throws -> String {
        guard case .failure(let p) = try read(name, format: format, rules: rules, control: control) else { return "(read without a problem)" }
        return p.description
    }

    /// The shipped rules with garak counting the probes of its own test assets.
    static func garakRules(_ probes: [String], limit: Double = 0.05) throws -> ReportRules {
        var r = try rules
        r.garak.probes = probes
        r.garak.maxFailureRate = limit
        return r
    }

    @Test(
        "each format is told from its content",
        arguments: [
            ("modelscan/clean.json", ReportFormat.modelscan), ("fickling/stacked-malicious.json", .fickling), ("picklescan/clean.txt", .picklescan),
            ("picklescan/old-global-import.txt", .picklescan), ("garak/test.report.jsonl", .garak), ("promptfoo/redteam-pass.json", .promptfoo),
            ("cyclonedx-declarations/model-attestation.cdx.json", .cyclonedxDeclarations),
        ])
    func detection(_ file: String, _ format: ReportFormat) throws {
        #expect(ReportFormat.detect(try Self.data(file)) == format)
    }

    @Test("modelscan: a clean scan passes SLP-SERIALIZATION-SCAN with its version, files and zoneless time read as UTC")
    func modelscanClean() throws {
        let r = try Self.report("modelscan/clean.json")
        #expect(r.result == .pass && r.control == "SLP-SERIALIZATION-SCAN" && r.toolVersion == "0.8.5")
        #expect(r.files == ["pytorch_model.bin:archive/data.pkl", "adapter.safetensors"])
        #expect(r.target == "models/acme-support-ft")
        #expect(r.time == .zoneless(try #require(Timestamps.parse("2026-11-28T09:15:02Z")), zone: "UTC"))
    }

    @Test("modelscan: a CRITICAL issue fails; the rule's threshold decides what a MEDIUM one does")
    func modelscanSeverity() throws {
        let r = try Self.report("modelscan/unsafe.json")
        #expect(r.result == .fail)
        #expect(r.findings == ["CRITICAL: posix.system in pytorch_model.bin:archive/data.pkl"])
        var strict = try Self.rules
        strict.modelscan.failAt = .medium
        #expect(try Self.report("modelscan/unsafe.json", rules: strict).findings.count == 2)
        var lax = try Self.rules
        lax.modelscan.failAt = .critical
        #expect(try Self.report("modelscan/unsafe.json", rules: lax).result == .fail)
    }

    @Test("modelscan: scan errors are refused by default and judged on what was scanned when the rule says ignore")
    func modelscanErrors() throws {
        #expect(try Self.problem("modelscan/errors.json").contains("the scan reported 1 error(s) (first: Parsing error: unexpected end of data at position 1024)"))
        var ignore = try Self.rules
        ignore.modelscan.refuseErrors = false
        let r = try Self.report("modelscan/errors.json", rules: ignore)
        #expect(r.result == .pass && r.summary.contains("1 scan error(s) ignored by the rule"))
    }

    @Test("modelscan: issues that disagree with the summary, or a scan of nothing, are refused")
    func modelscanInconsistent() throws {
        var text = String(decoding: try Self.data("modelscan/unsafe.json"), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"total_issues\": 2", with: "\"total_issues\": 1")
        guard case .failure(let p) = TestReportReader.read(Data(text.utf8), file: "cut.json", rules: try Self.rules) else { Issue.record("read"); return }
        #expect(p.description.contains("summary.total_issues: says 1 issue(s) but issues lists 2"))
        let empty = String(decoding: try Self.data("modelscan/clean.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"total_scanned\": 2, \"scanned_files\": [\"pytorch_model.bin:archive/data.pkl\", \"adapter.safetensors\"]", with: "\"total_scanned\": 0")
        guard case .failure(let q) = TestReportReader.read(Data(empty.utf8), file: "empty.json", rules: try Self.rules) else { Issue.record("read"); return }
        #expect(q.description.contains("scanned nothing"))
    }

    @Test("fickling: the objects appended back to back are all read; the worst severity decides")
    func fickling() throws {
        #expect(try Self.report("fickling/safe.json").result == .pass)
        let r = try Self.report("fickling/stacked-malicious.json")
        #expect(r.result == .fail && r.summary == "2 pickle(s) analysed, worst severity OVERTLY_MALICIOUS")
        #expect(r.findings.first?.hasPrefix("pickle 2: OVERTLY_MALICIOUS (OvertlyBadEval, UnusedVariables)") == true)
        #expect(r.time == .none && r.toolVersion == nil)
        let cut = try Self.data("fickling/stacked-malicious.json").dropLast(40)
        guard case .failure(let p) = TestReportReader.read(Data(cut), file: "cut.json", format: .fickling, rules: try Self.rules) else { Issue.record("read"); return }
        #expect(p.description.contains("cut short"))
    }

    @Test("picklescan: dangerous imports fail and name their files; the summary block is required")
    func picklescan() throws {
        #expect(try Self.report("picklescan/clean.txt").result == .pass)
        let r = try Self.report("picklescan/dangerous.txt")
        #expect(r.result == .fail && r.findings == ["dangerous: __builtin__ eval in /srv/models/totally-harmless-model/pytorch_model.bin:archive/data.pkl"])
        #expect(r.files == ["/srv/models/totally-harmless-model/pytorch_model.bin:archive/data.pkl"])
        #expect(try Self.report("picklescan/old-global-import.txt").result == .fail)
        let noSummary = "x.pkl: dangerous import 'os system' FOUND\n"
        guard case .failure(let p) = TestReportReader.read(Data(noSummary.utf8), file: "cut.txt", rules: try Self.rules) else { Issue.record("read"); return }
        #expect(p.description.contains("no complete SCAN SUMMARY block"))
    }

    @Test("garak 0.14 (fails, total_evaluated): the counted probes' failure rates decide")
    func garakCurrent() throws {
        let pass = try Self.report("garak/test.report.jsonl", rules: Self.garakRules(["test"]))
        #expect(pass.result == .pass && pass.toolVersion == "0.14.0.pre1" && pass.control == "SLP-REDTEAM")
        #expect(pass.time == .zoneless(try #require(Timestamps.parse("2025-08-28T14:06:53Z")), zone: "UTC"))
        let fail = try Self.report("garak/test_with_ci.report.jsonl", rules: Self.garakRules(["test.Test"]))
        #expect(fail.result == .fail)
        #expect(fail.findings == ["test.Test / always.Pass: 13 of 50 failed (26.0%)"])
        #expect(try Self.report("garak/test_with_ci.report.jsonl", rules: Self.garakRules(["test"], limit: 0.3)).result == .pass)
    }

    @Test("garak 0.13 (passed, total) and its model_* target names are read too")
    func garakOld() throws {
        let old = try Self.report("garak/test-0.13.0.report.jsonl", rules: Self.garakRules(["*"]))
        #expect(old.result == .pass && old.toolVersion == "0.13.0.pre1" && old.target == "test")
        let named = try Self.report("garak/report_test.report.jsonl", rules: Self.garakRules(["*"]))
        #expect(named.target == "openai.OpenAICompatible qwen2")
    }

    @Test("garak: the shipped rule counts only probes that bear on hidden instructions, and says so when none ran")
    func garakProbeSet() throws {
        #expect(try Self.problem("garak/test.report.jsonl").contains("has no eval of a probe the rule counts (report-rules.yaml garak.probes: latentinjection"))
    }

    @Test("garak: a truncated report, an unfinished run and an unknown eval shape are refused")
    func garakRefusals() throws {
        let rules = try Self.garakRules(["*"])
        let text = String(decoding: try Self.data("garak/test.report.jsonl"), as: UTF8.self)
        let cut = Data(text.utf8.prefix(text.utf8.count - 200))
        guard case .failure(let p) = TestReportReader.read(cut, file: "cut.jsonl", rules: rules) else { Issue.record("read"); return }
        #expect(p.description.contains("is cut short (the file ends inside it)"), "\(p)")
        let unfinished = text.split(separator: "\n").filter { !$0.contains("\"completion\"") && !$0.contains("\"digest\"") }.joined(separator: "\n") + "\n"
        guard case .failure(let q) = TestReportReader.read(Data(unfinished.utf8), file: "unfinished.jsonl", rules: rules) else { Issue.record("read"); return }
        #expect(q.description.contains("has no completion entry"))
        let unknown = text.replacingOccurrences(of: "\"total_evaluated\": 8", with: "\"evaluated\": 8")
        guard case .failure(let u) = TestReportReader.read(Data(unknown.utf8), file: "unknown.jsonl", rules: rules) else { Issue.record("read"); return }
        #expect(u.description.contains("an unknown report version"))
    }

    @Test("promptfoo: per plugin, success means the target resisted; errors count neither way")
    func promptfoo() throws {
        let pass = try Self.report("promptfoo/redteam-pass.json")
        #expect(pass.result == .pass && pass.toolVersion == "0.118.3")
        #expect(pass.summary == "40 test(s) in 2 plugin(s), 0 above the limit, 1 ended in an error (not counted); target openai:chat:acme-support-ft")
        #expect(pass.time == .stated(try #require(Timestamps.parse("2026-11-27T16:42:10Z")).addingTimeInterval(0.512)))
        let fail = try Self.report("promptfoo/redteam-fail.json")
        #expect(fail.result == .fail && fail.findings == ["indirect-prompt-injection: 4 of 20 attack(s) succeeded (20.0%)"])
    }

    @Test("promptfoo: a plain eval, another results version, or a key in the config is refused")
    func promptfooRefusals() throws {
        #expect(try Self.problem("promptfoo/plain-eval.json").contains("is a plain eval, not a red-team run"))
        var lax = try Self.rules
        lax.promptfoo.redteamOnly = false
        #expect(try Self.report("promptfoo/plain-eval.json", rules: lax).result == .pass)
        #expect(try Self.problem("promptfoo/results-v2.json").contains("results.version: is 2: an unknown report version"))
        let leaked = String(decoding: try Self.data("promptfoo/redteam-pass.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"description\": \"Red team of acme-support-ft\"", with: "\"description\": \"Red team\", \"apiKey\": \"sk-proj-Zx81mQ2vR7tY4uN0pL3kW9sD6fH1jB5c\"")
        guard case .failure(let p) = TestReportReader.read(Data(leaked.utf8), file: "leaked.json", rules: try Self.rules) else { Issue.record("read"); return }
        #expect(p.description.contains("config.apiKey") && !p.description.contains("sk-proj"))
    }

    @Test("CycloneDX declarations: the requirement names the control, the claim's target its digest, the evidence its dates")
    func declarations() throws {
        let r = try Self.report("cyclonedx-declarations/model-attestation.cdx.json")
        #expect(r.control == "SLP-BACKDOOR-SCAN" && r.result == .pass && r.toolVersion == "1.6")
        #expect(r.statedDigests == ["sha256:3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf02468"])
        #expect(r.time == .stated(try #require(Timestamps.parse("2026-11-25T14:00:00Z"))))
        #expect(r.expires == Timestamps.parse("2027-02-23T14:00:00Z"))
        let low = String(decoding: try Self.data("cyclonedx-declarations/model-attestation.cdx.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"score\": 1,", with: "\"score\": 0.6,")
        let judged = try TestReportReader.read(Data(low.utf8), file: "low.json", rules: try Self.rules).get()
        #expect(judged.result == .fail && judged.findings == ["SLP-BACKDOOR-SCAN: conformance 0.6"])
    }

    @Test("CycloneDX declarations: the official vector attests about an organisation, so it names no model")
    func declarationsOfficial() throws {
        #expect(try Self.problem("cyclonedx-declarations/valid-attestation-1.6.json", control: "SLP-THIRD-PARTY-REVIEW").contains("names no model"))
        #expect(try Self.problem("cyclonedx-declarations/valid-attestation-1.6.json").contains("say which control it proves (--control)"))
    }

    @Test("rules: a misspelt severity or an unknown zone is refused with its field")
    func rulesChecked() throws {
        let text = String(decoding: try Data(contentsOf: ShippedCatalog.root.appending(path: "Controls/report-rules.yaml")), as: UTF8.self)
        let bad = text.replacingOccurrences(of: "fail_at: HIGH", with: "fail_at: HIHG").replacingOccurrences(of: "timestamps_without_zone: UTC", with: "timestamps_without_zone: Mars/Olympus")
        guard case .failure(let p) = ReportRules.read(Data(bad.utf8)) else { Issue.record("read"); return }
        #expect(p.description.contains("modelscan.fail_at: 'HIHG' is not one of: LOW, MEDIUM, HIGH, CRITICAL"))
        #expect(p.description.contains("timestamps_without_zone: 'Mars/Olympus' is not a time zone"))
    }

    @Test("a zoneless time is read in the zone the rule or the command gives")
    func zones() throws {
        var paris = try Self.rules
        paris.zoneless = try #require(ReportTime.zone("Europe/Paris"))
        paris.zonelessName = "Europe/Paris"
        #expect(try Self.report("modelscan/clean.json", rules: paris).time == .zoneless(try #require(Timestamps.parse("2026-11-28T08:15:02Z")), zone: "Europe/Paris"))
        #expect(try Self.report("modelscan/clean.json", rules: paris).time.date == Timestamps.parse("2026-11-28T08:15:02Z"))
        paris.zoneless = try #require(ReportTime.zone("-05:00"))
        #expect(try Self.report("modelscan/clean.json", rules: paris).time.date == Timestamps.parse("2026-11-28T14:15:02Z"))
    }

    @Test("a random directory in the scanned path is not secret material; a key in a target is refused unshown")
    func pathsAreNotSecrets() throws {
        let text = String(decoding: try Self.data("modelscan/clean.json"), as: UTF8.self)
        let random = text.replacingOccurrences(of: "\"models/acme-support-ft\"", with: "\"/tmp/sleeper-export-CBB113EF-4AD4-42F2-95DA-A166EA35C478/scanned-model\"")
        #expect(try TestReportReader.read(Data(random.utf8), file: "r.json", rules: try Self.rules).get().target == "/tmp/sleeper-export-CBB113EF-4AD4-42F2-95DA-A166EA35C478/scanned-model")
        let keyed = text.replacingOccurrences(of: "\"models/acme-support-ft\"", with: "\"hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\"")
        guard case .failure(let p) = TestReportReader.read(Data(keyed.utf8), file: "r.json", rules: try Self.rules) else { Issue.record("read"); return }
        #expect(p.description.contains("target: looks like secret material") && !p.description.contains("hf_AbCd"))
    }

    @Test("the draft: one record with the report's hash, its time, the rule and the tested bytes in the note")
    func draft() throws {
        let data = try Self.data("modelscan/clean.json")
        let r = try Self.report("modelscan/clean.json")
        let d = r.draft(
            subject: try #require(Subject("model:m")), reportName: "clean.json", reportData: data, fileArtifacts: [],
            tested: .digest("sha256:abc", how: "stated with --digest"), recordStale: false, fallback: (Date(timeIntervalSince1970: 0), "unused"), by: nil)
        #expect(d.control == "SLP-SERIALIZATION-SCAN" && d.result == .pass && d.boundDigest == "sha256:abc")
        #expect(d.artifacts == [Artifact.of(name: "clean.json", data: data)])
        #expect(d.effective == Timestamps.parse("2026-11-28T09:15:02Z"))
        #expect(d.note?.contains("Rule: fails on an issue of severity HIGH or above (report-rules.yaml modelscan.fail_at)") == true)
        #expect(d.note?.contains("the report gives no zone, read as UTC") == true)
    }
}
