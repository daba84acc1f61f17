import Foundation

/// Sleeper's own model scan report (`sleeper scan model --format json`), read back as evidence of
/// the serialization-safety control. The digest is recomputed from the files' hashes, so a report
/// edited to name other bytes is refused rather than bound to them.
extension ModelScanReport {
    /// The scan judged by the rules, exactly as `sleeper evidence ingest` would judge its JSON.
    public func judged(by rules: ReportRules) throws -> TestReport {
        try TestReportReader.read(json(), file: "sleeper-scan-model.json", format: .sleeperModelScan, rules: rules).get()
    }
}

enum SleeperModelScanReport {
    static func read(_ data: Data, file: String, rules: ReportRules) -> Result<TestReport, InventoryProblems> {
        let report: ModelScanReport
        do { report = try ModelScanReport.decode(data) } catch {
            return ReportParsing.failure(file, "", "is not a Sleeper model scan report (\(error.localizedDescription))")
        }
        guard report.sleeperScan == "model", report.formatVersion == 1 else {
            return ReportParsing.failure(file, "sleeper_scan", "is not a version 1 Sleeper model scan")
        }
        guard !report.files.isEmpty else { return ReportParsing.failure(file, "files", "is empty: the scan read nothing, so it proves nothing") }
        for (i, f) in report.files.enumerated() where f.sha256.range(of: "^[0-9a-f]{64}$", options: .regularExpression) == nil {
            return ReportParsing.failure(file, "files[\(i)].sha256", "is not 64 lower-case hex digits")
        }
        let recomputed = ModelDigest.of(files: Dictionary(report.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a }))
        guard recomputed == report.digest else {
            return ReportParsing.failure(file, "digest", "is \(report.digest), but the files' hashes give \(recomputed): the report was changed after the scan")
        }
        guard report.files.contains(where: { $0.format != ModelFileFormat.unknown.rawValue }) else {
            let named = report.files.prefix(3).map(\.path).joined(separator: ", ") + (report.files.count > 3 ? ", …" : "")
            return ReportParsing.failure(file, "files", "holds no model file Sleeper reads (\(named)): pickle, PyTorch, safetensors, GGUF, ONNX, Keras or NumPy; the scan proves nothing")
        }
        guard let time = Timestamps.parse(report.scannedAt) else { return ReportParsing.failure(file, "scanned_at", "is not a date-time") }
        let rule = rules.sleeperModelScan
        let deciding = report.findings.filter { $0.finding.severity >= rule.failAt }
        let shown = deciding.isEmpty ? report.findings : deciding
        let formats = Dictionary(grouping: report.files, by: \.format).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
        let counts = ScanSeverity.allCases.reversed().filter { $0 != .info }.map { "\(report.count($0)) \($0.rawValue)" }.joined(separator: ", ")
        return .success(
            TestReport(
                format: .sleeperModelScan, toolVersion: report.sleeperVersion, control: rule.control, result: deciding.isEmpty ? .pass : .fail,
                rule: "fails on a finding of severity \(rule.failAt.rawValue) or above (\(rules.cite("sleeper-model-scan.fail_at")))",
                summary: "\(report.files.count) file(s) scanned (\(formats)), \(report.files.map(\.pickles).reduce(0, +)) pickle(s) walked; findings: \(counts)",
                findings: shown.prefix(TestReport.maximumFindings).map { ModelScanReport.line($0.file, $0.finding) },
                time: .stated(time), expires: nil, target: report.target, files: report.files.map(\.path), statedDigests: [report.digest]))
    }
}
