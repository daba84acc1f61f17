import Foundation

/// protectai/modelscan's JSON report (`modelscan -p PATH -r json -o report.json`): a scan of model
/// files for serialization that runs code when loaded. Fails when any issue is at or above the
/// rule's severity; a scan with errors is refused by default (files it could not read are unknown).
enum ModelscanReport {
    static func read(_ data: Data, file: String, rules: ReportRules) -> Result<TestReport, InventoryProblems> {
        let r: DocumentCursor
        do { r = try ReportParsing.json(data, file: file, what: "modelscan JSON report") } catch { return .failure(error) }
        let summary = r["summary"]
        guard summary.fields != nil, let version = ReportParsing.text(summary["modelscan_version"]) else {
            return ReportParsing.failure(file, "summary.modelscan_version", "is missing: not a modelscan JSON report (modelscan -r json)")
        }
        guard let total = ReportParsing.count(summary["total_issues"]) else {
            return ReportParsing.failure(file, "summary.total_issues", "must be a count (an unknown report version?)")
        }
        let rule = rules.modelscan
        var issues: [(severity: ModelscanSeverity, text: String)] = []
        for (i, issue) in (r["issues"].elements ?? []).enumerated() {
            guard let raw = ReportParsing.text(issue["severity"]), let severity = ModelscanSeverity(rawValue: raw) else {
                return ReportParsing.failure(file, "issues[\(i)].severity", "must be one of \(ModelscanSeverity.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let what = [ReportParsing.text(issue["module"]), ReportParsing.text(issue["operator"])].compactMap { $0 }.joined(separator: ".")
            let source = ReportParsing.text(issue["source"]).map { " in \($0)" } ?? ""
            issues.append((severity, "\(raw): \(what.isEmpty ? ReportParsing.quote(issue["description"]) ?? "issue" : what)\(source)"))
        }
        if r["issues"].isMissing == false && r["issues"].elements == nil {
            return ReportParsing.failure(file, "issues", "must be a list")
        }
        if issues.count != total {
            return ReportParsing.failure(file, "summary.total_issues", "says \(total) issue(s) but issues lists \(issues.count): the report is inconsistent or cut")
        }
        let errors = r["errors"].elements ?? []
        if rule.refuseErrors, let first = errors.first {
            let what = ReportParsing.quote(first["description"]) ?? ReportParsing.quote(first["category"]) ?? "an error"
            return ReportParsing.failure(
                file, "errors",
                "the scan reported \(errors.count) error(s) (first: \(what)); files it could not scan leave the result unknown (\(rules.cite("modelscan.errors: ignore")) judges on what was scanned)")
        }
        let scanned = summary["scanned"]
        let files = (scanned["scanned_files"].elements ?? []).compactMap { ReportParsing.text($0) }
        guard let scannedCount = ReportParsing.count(scanned["total_scanned"]) ?? (files.isEmpty ? nil : files.count), scannedCount > 0 else {
            return ReportParsing.failure(file, "summary.scanned.total_scanned", "is 0: modelscan scanned nothing, so the report proves nothing")
        }
        var time = ReportTime.none
        if let stamp = ReportParsing.text(summary["timestamp"]) {
            guard let t = ReportTime.read(stamp, zone: rules.zoneless, name: rules.zonelessName) else {
                return ReportParsing.failure(file, "summary.timestamp", "'\(stamp)' is not a date-time")
            }
            time = t
        }
        let failing = issues.filter { $0.severity >= rule.failAt }
        let counts = ModelscanSeverity.allCases.reversed().compactMap { s in
            let n = issues.filter { $0.severity == s }.count
            return n > 0 ? "\(n) \(s.rawValue)" : nil
        }
        return .success(
            TestReport(
                format: .modelscan, toolVersion: version, control: rule.control, result: failing.isEmpty ? .pass : .fail,
                rule: "fails on an issue of severity \(rule.failAt.rawValue) or above (\(rules.cite("modelscan.fail_at")))",
                summary: "\(scannedCount) file(s) scanned, \(total) issue(s)\(counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")"
                    + (errors.isEmpty ? "" : ", \(errors.count) scan error(s) ignored by the rule"),
                findings: Array((failing.isEmpty ? issues : failing).map(\.text).prefix(TestReport.maximumFindings)),
                time: time, expires: nil, target: ReportParsing.text(summary["input_path"]), files: files, statedDigests: []))
    }
}
