import Foundation

/// picklescan's text output: a line `FILE: dangerous import 'MODULE NAME' FOUND` per unsafe global
/// (`global import` before 0.0.9), then a `SCAN SUMMARY` block with the counts. It states no
/// time or version. An `ERROR:` line means a pickle could not be read to the end.
enum PicklescanReport {
    static func read(_ data: Data, file: String, rules: ReportRules) -> Result<TestReport, InventoryProblems> {
        guard let text = String(data: data, encoding: .utf8) else {
            return ReportParsing.failure(file, "", "is not picklescan output: not UTF-8 text")
        }
        let found = /^(?<file>.+?): (?<level>dangerous|suspicious|global) import '(?<what>[^']*)' FOUND/
        let countLine = /^(?<name>Scanned files|Infected files|Dangerous globals|Suspicious globals): (?<n>\d+)\s*$/
        var counts: [String: Int] = [:], findings: [String] = [], files: [String] = [], errors: [String] = []
        var sawSummary = false
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.hasPrefix("----------- SCAN SUMMARY -----------") { sawSummary = true; continue }
            if let m = try? found.prefixMatch(in: line) {
                let level = m.output.level == "suspicious" ? "suspicious" : "dangerous"
                findings.append("\(level): \(m.output.what) in \(m.output.file)")
                if !files.contains(String(m.output.file)) { files.append(String(m.output.file)) }
            } else if sawSummary, let m = try? countLine.wholeMatch(in: line) {
                guard let n = Int(m.output.n) else { return ReportParsing.failure(file, "line \(number + 1)", "is not a count") }
                counts[String(m.output.name)] = n
            } else if line.hasPrefix("ERROR:") || line.hasPrefix("Unhandled exception") {
                errors.append(String(line.prefix(160)))
            }
        }
        guard sawSummary, let scanned = counts["Scanned files"], let dangerous = counts["Dangerous globals"] else {
            return ReportParsing.failure(file, "", "has no complete SCAN SUMMARY block (Scanned files, Dangerous globals): not picklescan output, or cut short")
        }
        guard scanned > 0 else { return ReportParsing.failure(file, "Scanned files", "is 0: picklescan scanned nothing, so the output proves nothing") }
        let rule = rules.picklescan
        if rule.refuseErrors, let first = errors.first {
            return ReportParsing.failure(
                file, "",
                "picklescan reported \(errors.count) error(s) (first: \(first)); a pickle it could not read leaves the result unknown (\(rules.cite("picklescan.errors: ignore")) judges on what was read)"
            )
        }
        let suspicious = counts["Suspicious globals"] ?? 0
        let fails = dangerous > 0 || (rule.failOnSuspicious && suspicious > 0)
        return .success(
            TestReport(
                format: .picklescan, toolVersion: nil, control: rule.control, result: fails ? .fail : .pass,
                rule: "fails on a \(rule.failOnSuspicious ? "suspicious or dangerous" : "dangerous") global (\(rules.cite("picklescan.fail_at")))",
                summary: "\(scanned) file(s) scanned, \(counts["Infected files"] ?? 0) infected, \(dangerous) dangerous global(s)"
                    + (counts["Suspicious globals"].map { ", \($0) suspicious" } ?? ""),
                findings: Array(findings.prefix(TestReport.maximumFindings)), time: .none, expires: nil, target: nil, files: files, statedDigests: []))
    }
}
