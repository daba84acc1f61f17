/// The report as GitHub/GitLab-flavoured Markdown: headings, pipe tables, no HTML.
public enum ReportMarkdown {
    public static func render(_ report: ReviewReport) -> String {
        var out = "# \(report.title)\n\n_\(report.subtitle)_\n"
        for s in report.sections() {
            out += "\n## \(s.title)\n\n"
            if let intro = s.intro { out += intro + "\n" }
            if s.chart == .trend { out += "\n" + trend(report) }
            for (caption, table) in s.tables {
                out += "\n"
                if let caption { out += "**\(caption)**\n\n" }
                out += render(table)
            }
            for note in s.notes { out += "\n- \(cell(note))" }
            if !s.notes.isEmpty { out += "\n" }
        }
        return out
    }

    static func trend(_ report: ReviewReport) -> String {
        render(
            .init(
                columns: ["date", "run"] + Band.allCases.map(\.rawValue),
                rows: report.dailyRuns.map { run in
                    [ReviewReport.day(run.asOf), "\(run.id)"] + Band.allCases.map { ReviewReport.n(run[band: $0]) }
                }, numeric: [2, 3, 4, 5]))
    }

    static func render(_ t: ReportSection.Table) -> String {
        var out = "| " + t.columns.map(cell).joined(separator: " | ") + " |\n"
        out += "|" + t.columns.indices.map { t.numeric.contains($0) ? " ---: |" : " --- |" }.joined() + "\n"
        for row in t.rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    /// Pipes would end a cell and newlines a row; both are escaped.
    static func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
