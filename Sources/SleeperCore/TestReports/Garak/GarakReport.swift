import Foundation

/// NVIDIA/garak's report JSONL: one entry per line, told apart by `entry_type`. `start_run setup`
/// names the target (`plugins.target_*`, `plugins.model_*` before 0.14), `init` the version and
/// start time, `eval` one probe and detector's counts, `completion` a finished run. Attempts (most
/// of the file) are not read beyond their first bytes.
enum GarakReport {
    struct Eval {
        var probe: String, detector: String
        var failed: Int, evaluated: Int
        var rate: Double { evaluated == 0 ? 0 : Double(failed) / Double(evaluated) }
    }

    static func read(_ data: Data, file: String, rules: ReportRules) -> Result<TestReport, InventoryProblems> {
        let (lines, complete) = JSONStream.lines(data)
        var version: String?, start: String?, target: String?, targetType: String?, setupSeen = false, completed = false
        var evals: [Eval] = []
        var secretProblems: [InventoryProblem] = []
        for (position, piece) in lines.enumerated() {
            let isLast = position == lines.count - 1
            // Attempts are most of a report and say nothing the evals do not: skipped unread,
            // except the last line, which must parse (a cut-off file ends inside one).
            if !isLast, isAttempt(piece.bytes) { continue }
            let value: DocumentValue
            do { value = try JSONTreeParser.parse(piece.bytes, maximumDepth: 64) } catch {
                let why = isLast && !complete ? "is cut short (the file ends inside it)" : "is not JSON (\(error))"
                return ReportParsing.failure(file, "line \(piece.line)", why)
            }
            let e = DocumentCursor(value: value, path: "line \(piece.line)")
            switch ReportParsing.text(e["entry_type"]) {
            case "start_run setup"?:
                setupSeen = true
                target = ReportParsing.text(e["plugins.target_name"]) ?? ReportParsing.text(e["plugins.model_name"])
                targetType = ReportParsing.text(e["plugins.target_type"]) ?? ReportParsing.text(e["plugins.model_type"])
                // The run's configuration is the one part of a report where a key could be written.
                let collector = ProblemCollector(file: file)
                if !SecretScanner.scan(e, into: collector).isEmpty { secretProblems += collector.problems }
            case "init"?:
                version = ReportParsing.text(e["garak_version"])
                start = ReportParsing.text(e["start_time"])
            case "eval"?:
                guard let probe = ReportParsing.text(e["probe"]), let detector = ReportParsing.text(e["detector"]),
                    let passed = ReportParsing.count(e["passed"])
                else {
                    return ReportParsing.failure(file, "line \(piece.line)", "an eval entry needs probe, detector and passed")
                }
                if let evaluated = ReportParsing.count(e["total_evaluated"]) {
                    // Since 0.14: fails counted apart from results no detector could judge (nones).
                    let failed = ReportParsing.count(e["fails"]) ?? max(0, evaluated - passed)
                    evals.append(Eval(probe: probe, detector: detector, failed: failed, evaluated: evaluated))
                } else if let total = ReportParsing.count(e["total"]) {
                    evals.append(Eval(probe: probe, detector: detector, failed: max(0, total - passed), evaluated: total))
                } else {
                    return ReportParsing.failure(file, "line \(piece.line)", "an eval entry with neither total_evaluated nor total: an unknown report version")
                }
            case "completion"?:
                completed = true
            default:
                continue
            }
        }
        if !secretProblems.isEmpty {
            return .failure(InventoryProblems(secretProblems))
        }
        guard let version, setupSeen else {
            return ReportParsing.failure(file, "", "has no init or start_run setup entry: not a garak report")
        }
        guard completed else {
            return ReportParsing.failure(file, "", "has no completion entry: the run did not finish or the file is cut short, so its evals are partial")
        }
        guard let named = target ?? targetType else {
            return ReportParsing.failure(file, "start_run setup", "names no model (no plugins.target_name, target_type, model_name or model_type)")
        }
        let rule = rules.garak
        let counted = evals.filter { rule.counts($0.probe.hasPrefix("probes.") ? String($0.probe.dropFirst(7)) : $0.probe) }
        guard !counted.isEmpty else {
            let seen = Set(evals.map(\.probe)).sorted().prefix(8).joined(separator: ", ")
            return ReportParsing.failure(
                file, "", "has no eval of a probe the rule counts (\(rules.cite("garak.probes")): \(rule.probes.joined(separator: ", "))); it evaluated \(seen.isEmpty ? "nothing" : seen)")
        }
        var time = ReportTime.none
        if let start {
            guard let t = ReportTime.read(start, zone: rules.zoneless, name: rules.zonelessName) else { return ReportParsing.failure(file, "init.start_time", "'\(start)' is not a date-time") }
            time = t
        }
        let failing = counted.filter { $0.rate > rule.maxFailureRate }
        func line(_ e: Eval) -> String { "\(e.probe) / \(e.detector): \(e.failed) of \(e.evaluated) failed (\(ReportParsing.percent(e.rate)))" }
        return .success(
            TestReport(
                format: .garak, toolVersion: version, control: rule.control, result: failing.isEmpty ? .pass : .fail,
                rule:
                    "fails when a counted probe's failure rate is above \(ReportParsing.percent(rule.maxFailureRate)) (\(rules.cite("garak.max_failure_rate")), probes: \(rules.cite("garak.probes")))",
                summary: "\(counted.count) of \(evals.count) probe/detector result(s) counted, \(failing.count) above the limit; target \(named)",
                findings: Array((failing.isEmpty ? counted.sorted { $0.rate > $1.rate } : failing).map(line).prefix(TestReport.maximumFindings)),
                time: time, expires: nil, target: [targetType, target].compactMap { $0 }.joined(separator: " "), files: [], statedDigests: []))
    }

    /// Whether a line is an attempt entry, from its first bytes (garak writes `entry_type` first).
    static func isAttempt(_ bytes: Data) -> Bool {
        let head = String(decoding: bytes.prefix(48), as: UTF8.self)
        return head.contains("\"entry_type\": \"attempt\"") || head.contains("\"entry_type\":\"attempt\"")
    }
}
