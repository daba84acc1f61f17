import Foundation

/// trailofbits/fickling's `--check-safety --json-output FILE`: one JSON object per pickle analysed,
/// appended back to back (`{severity, analysis, detailed_results}`). The objects state no time,
/// version or file; the worst severity decides.
enum FicklingReport {
    static func read(_ data: Data, file: String, rules: ReportRules) -> Result<TestReport, InventoryProblems> {
        let pieces: [JSONStream.Piece]
        do { pieces = try JSONStream.values(data) } catch {
            return ReportParsing.failure(file, "", "is not a fickling JSON output: \(error)")
        }
        guard !pieces.isEmpty else { return ReportParsing.failure(file, "", "holds no fickling result (no JSON object)") }
        var worst = FicklingSeverity.likelySafe
        var findings: [String] = []
        for (i, piece) in pieces.enumerated() {
            let o: DocumentCursor
            do { o = try ReportParsing.json(piece.bytes, file: file, what: "fickling JSON output") } catch {
                return .failure(InventoryProblems(error.problems.map { InventoryProblem(file: $0.file, path: "object \(i + 1) (line \(piece.line))", message: $0.message) }))
            }
            guard let raw = ReportParsing.text(o["severity"]), let severity = FicklingSeverity(rawValue: raw) else {
                return ReportParsing.failure(file, "object \(i + 1).severity", "must be one of \(FicklingSeverity.allCases.map(\.rawValue).joined(separator: ", ")) (line \(piece.line))")
            }
            guard o["analysis"].value != nil else {
                return ReportParsing.failure(file, "object \(i + 1).analysis", "is missing: not a fickling result (line \(piece.line))")
            }
            worst = max(worst, severity)
            if severity > .likelySafe {
                let detail = (o["detailed_results"]["AnalysisResult"].fields ?? [:]).keys.sorted().joined(separator: ", ")
                findings.append("pickle \(i + 1): \(raw)" + (detail.isEmpty ? "" : " (\(detail))") + (ReportParsing.quote(o["analysis"]).map { ": \($0)" } ?? ""))
            }
        }
        let rule = rules.fickling
        return .success(
            TestReport(
                format: .fickling, toolVersion: nil, control: rule.control, result: worst >= rule.failAt ? .fail : .pass,
                rule: "fails when a pickle is \(rule.failAt.rawValue) or worse (\(rules.cite("fickling.fail_at")))",
                summary: "\(pieces.count) pickle(s) analysed, worst severity \(worst.rawValue)",
                findings: Array(findings.prefix(TestReport.maximumFindings)), time: .none, expires: nil, target: nil, files: [], statedDigests: []))
    }
}
