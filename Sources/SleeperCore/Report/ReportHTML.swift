import Foundation

/// The report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts and
/// nothing fetched, so it can be mailed, archived with the evidence, and printed.
public enum ReportHTML {
    public static func render(_ report: ReviewReport) -> String {
        var body = "<header><h1>\(esc(report.title))</h1><p class=\"sub\">\(esc(report.subtitle))</p></header>\n"
        for s in report.sections() {
            body += "<section id=\"\(s.id)\"><h2>\(esc(s.title))</h2>\n"
            if let intro = s.intro { body += "<p>\(esc(intro))</p>\n" }
            if let chart = s.chart, let svg = ReportCharts.svg(chart, report) { body += "<figure>\(svg)</figure>\n" }
            for (caption, table) in s.tables { body += render(table, caption: caption) }
            if !s.notes.isEmpty { body += "<ul class=\"notes\">" + s.notes.map { "<li>\(esc($0))</li>" }.joined() + "</ul>\n" }
            body += "</section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(esc(report.title))</title>
            <style>\(css)</style></head>
            <body><main>
            \(body)<footer>Made by Sleeper from its inventory, evidence ledger and scoring runs. Framework IDs and names are those of their publishers; "A2" is a name guidance uses for OWASP ASI04, ASI06 and ASI10, not an OWASP number.</footer>
            </main></body></html>

            """
    }

    static func render(_ t: ReportSection.Table, caption: String?) -> String {
        // Narrow tables (the band counts) read better at their natural width than stretched.
        var out = t.columns.count <= 3 ? "<table class=\"compact\">" : "<table>"
        if let caption { out += "<caption>\(esc(caption))</caption>" }
        out += "<thead><tr>" + t.columns.enumerated().map { i, c in "<th\(t.numeric.contains(i) ? " class=\"n\"" : "")>\(esc(c))</th>" }.joined() + "</tr></thead><tbody>"
        for row in t.rows {
            out +=
                "<tr>"
                + row.enumerated().map { i, c in
                    let band = Band(rawValue: c) != nil ? " class=\"band \(c)\"" : (t.numeric.contains(i) ? " class=\"n\"" : "")
                    return "<td\(band)>\(esc(c))</td>"
                }.joined() + "</tr>"
        }
        return out + "</tbody></table>\n"
    }

    static func esc(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static let css = """
        :root { --crit: #b3261e; --high: #e8710a; --med: #f2c94c; --low: #6b9e78; --ink: #1d2330; --muted: #5d6675; --rule: #d9dde3; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #f6f7f9; }
        main { max-width: 1080px; margin: 0 auto; padding: 28px 32px 40px; background: #fff; }
        header { border-bottom: 3px solid var(--ink); margin-bottom: 8px; }
        h1 { font-size: 26px; margin: 0 0 4px; }
        .sub { color: var(--muted); margin: 0 0 12px; font-size: 13px; }
        h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
        table { border-collapse: collapse; width: 100%; margin: 10px 0 14px; font-size: 13px; }
        table.compact { width: auto; min-width: 360px; }
        caption { text-align: left; font-weight: 600; padding: 4px 0; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
        td { overflow-wrap: anywhere; }
        th { background: #eef0f3; font-weight: 600; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.band { font-weight: 600; white-space: nowrap; }
        td.critical { color: var(--crit); } td.high { color: var(--high); } td.medium { color: #9a7b00; } td.low { color: var(--low); }
        figure { margin: 8px 0 12px; }
        svg { max-width: 100%; height: auto; }
        svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--ink); }
        .notes { font-size: 13px; color: var(--ink); padding-left: 20px; }
        .notes li { margin: 3px 0; }
        footer { margin-top: 30px; padding-top: 8px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12px; }
        @media print {
          body { background: #fff; font-size: 11pt; }
          main { max-width: none; padding: 0; }
          h2, caption { break-after: avoid; }
          tr, figure, li, .intro { break-inside: avoid; }
          thead { display: table-header-group; }
          table { font-size: 9.5pt; }
        }
        """
}
