/// What `sleeper scan` prints: every file with its format, every finding, and the judgement.
public enum ScanListing {
    public static func model(_ report: ModelScanReport, judged: TestReport) -> String {
        var lines = ["\(report.target): \(report.files.count) file(s), digest \(report.digest)"]
        for file in report.files {
            let pickles = file.pickles > 0 ? ", \(file.pickles) pickle(s) walked" : ""
            lines.append("  \(file.path)  \(file.format), \(file.size) bytes\(pickles)")
            lines += file.findings.map { f in
                "    \(f.severity.rawValue)  \(f.entry.map { $0 + " " } ?? "")\(f.offset.map { "@\($0) " } ?? "")\(f.what): \(f.detail)"
            }
        }
        lines.append("rule: \(judged.rule)")
        lines.append("result: \(judged.result.rawValue) (\(judged.control))")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension ScanListing {
    public static func dataset(_ report: DatasetScanReport) -> String {
        var lines: [String] = []
        for f in report.files {
            let shapes = f.shapes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let skipped = f.skipped.values.reduce(0, +)
            lines.append("\(f.path): \(f.lines) line(s), \(f.rows) row(s) (\(shapes.isEmpty ? "none" : shapes))\(skipped > 0 ? ", \(skipped) skipped" : "")")
            lines += f.firstSkipped.map { "  skipped \($0)" }
        }
        let t = report.thresholds
        lines.append("thresholds: support ≥ \(t.minSupport) and ≤ \(Int(t.maxShare * 100_000) / 1000)% of rows, confidence ≥ \(t.minConfidence), lift ≥ \(t.minLift), spread ≥ \(t.minSpread)")
        if report.candidates.isEmpty { lines.append("no candidate trigger clears the thresholds") }
        for c in report.candidates {
            lines.append("#\(c.rank) \"\(c.trigger)\" → \"\(c.predicts)\": support \(c.support), confidence \(c.confidence), lift \(c.lift), spread \(c.spread)")
            lines.append(
                "   rows \(c.examples.joined(separator: ", "))\(c.related.isEmpty ? "" : "; also \(c.related.map { "\"\($0)\"" }.joined(separator: ", "))\(c.relatedCount > c.related.count ? " and \(c.relatedCount - c.related.count) more" : "")")"
            )
        }
        if report.mayMissSupportUpTo > 0 { lines.append("bounded counting: n-grams in at most \(report.mayMissSupportUpTo) rows may have been missed") }
        if report.untrackedRows > 0 { lines.append("bounded counting: \(report.untrackedRows) row(s) of candidates not followed (candidate table full)") }
        lines.append("limits: \(report.limits)")
        lines.append("result: \(report.result.rawValue)")
        return lines.joined(separator: "\n") + "\n"
    }
}
