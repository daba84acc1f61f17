import Foundation

/// Inline SVG charts for the HTML report: drawn from the report's numbers with fixed sizes and
/// no script, so they print and archive as they look on screen.
enum ReportCharts {
    static let colors: [Band: String] = [.critical: "#b3261e", .high: "#e8710a", .medium: "#f2c94c", .low: "#6b9e78"]

    static func svg(_ chart: ReportSection.Chart, _ report: ReviewReport) -> String? {
        switch chart {
        case .distribution: return distribution(report)
        case .coverage: return coverage(report)
        case .trend: return trend(report)
        case .paths: return AttackPathGraph.svg(report)
        }
    }

    /// Credentials per score bin, each bar in the colour of its band: the bins are split at the
    /// band edges, so no bar holds two bands. Bars are as wide as their bins.
    static func distribution(_ report: ReviewReport) -> String? {
        let counts = report.histogram, edges = report.histogramEdges
        guard counts.reduce(0, +) > 0, edges.count == counts.count + 1 else { return nil }
        let w = 640.0, h = 250.0, left = 52.0, bottom = 36.0, top = 44.0
        let maxCount = Double(counts.max() ?? 1)
        let unit = (w - left - 10) / 101
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"Score distribution\">"
        out += "<text x=\"\(left)\" y=\"14\" font-weight=\"600\">Score distribution (credentials per bin; bins split at the band edges)</text>"
        for tick in niceTicks(maxCount) {
            let y = h - bottom - (tick / maxCount) * (h - bottom - top)
            out += "<line x1=\"\(left)\" x2=\"\(w - 10)\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#e3e6ea\"/>"
            out += "<text x=\"\(left - 6)\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(ReviewReport.n(Int(tick)))</text>"
        }
        for (i, count) in counts.enumerated() {
            let lo = edges[i], hi = edges[i + 1] - 1
            let bh = maxCount == 0 ? 0 : Double(count) / maxCount * (h - bottom - top)
            let x = left + Double(lo) * unit + 1, bw = Double(hi - lo + 1) * unit - 2
            let color = colors[report.band(forScore: lo)] ?? "#888"
            out +=
                "<rect x=\"\(f(x))\" y=\"\(f(h - bottom - bh))\" width=\"\(f(bw))\" height=\"\(f(bh))\" fill=\"\(color)\"><title>\(lo)–\(min(hi, 100)): \(ReviewReport.n(count)) (\(report.band(forScore: lo)))</title></rect>"
            if count > 0 && bw > 24 { out += "<text x=\"\(f(x + bw / 2))\" y=\"\(f(h - bottom - bh - 4))\" text-anchor=\"middle\">\(ReviewReport.n(count))</text>" }
        }
        for tick in Set(edges.filter { $0 <= 100 } + [100]).sorted() {
            out += "<text x=\"\(f(left + Double(tick) * unit))\" y=\"\(f(h - bottom + 16))\" text-anchor=\"middle\">\(tick)</text>"
        }
        out += "<line x1=\"\(left)\" x2=\"\(w - 10)\" y1=\"\(f(h - bottom))\" y2=\"\(f(h - bottom))\" stroke=\"#1d2330\"/>"
        return out + "</svg>"
    }

    /// Share of applicable subjects covered, one bar per framework.
    static func coverage(_ report: ReviewReport) -> String? {
        let rows = report.coverage().filter { $0.subjectsApplicable > 0 }
        guard !rows.isEmpty else { return nil }
        let labelW = 280.0, barMax = 260.0, rowH = 26.0, top = 26.0
        let h = top + rowH * Double(rows.count) + 8
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 700 \(Int(h))\" width=\"700\" height=\"\(Int(h))\" role=\"img\" aria-label=\"Coverage per framework\">"
        out += "<text x=\"0\" y=\"14\" font-weight=\"600\">Coverage per framework (subject × item pairs with valid evidence)</text>"
        for (i, c) in rows.enumerated() {
            let y = top + Double(i) * rowH
            let bw = barMax * c.percent / 100
            out += "<text x=\"\(f(labelW - 8))\" y=\"\(f(y + 15))\" text-anchor=\"end\">\(ReportHTML.esc(shorten(c.framework.name, 40)))</text>"
            out += "<rect x=\"\(f(labelW))\" y=\"\(f(y + 3))\" width=\"\(f(barMax))\" height=\"16\" fill=\"#eef0f3\"/>"
            out += "<rect x=\"\(f(labelW))\" y=\"\(f(y + 3))\" width=\"\(f(bw))\" height=\"16\" fill=\"#2f6fb2\"/>"
            out += "<text x=\"\(f(labelW + barMax + 8))\" y=\"\(f(y + 15))\">\(String(format: "%.0f%%", c.percent)) (\(c.subjectsCovered)/\(c.subjectsApplicable))</text>"
        }
        return out + "</svg>"
    }

    /// Critical and high counts across the stored runs, oldest first.
    static func trend(_ report: ReviewReport) -> String? {
        let runs = report.dailyRuns
        guard runs.count >= 2 else { return nil }
        let w = 640.0, h = 240.0, left = 52.0, right = 110.0, top = 40.0, bottom = 40.0
        let maxV = Double(max(1, runs.map { max($0.critical, $0.high) }.max() ?? 1))
        // Placed by date, not by run number: runs made the same day sit together, a quiet month shows as a gap.
        let first = runs[0].asOf.timeIntervalSince1970, span = max(1, runs[runs.count - 1].asOf.timeIntervalSince1970 - first)
        func x(_ i: Int) -> Double { left + (runs[i].asOf.timeIntervalSince1970 - first) / span * (w - left - right) }
        func y(_ v: Int) -> Double { h - bottom - Double(v) / maxV * (h - top - bottom) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"Critical and high across runs\">"
        out += "<text x=\"\(left)\" y=\"14\" font-weight=\"600\">Critical and high credentials over time</text>"
        for tick in niceTicks(maxV) {
            let yy = h - bottom - tick / maxV * (h - top - bottom)
            out += "<line x1=\"\(left)\" x2=\"\(w - right)\" y1=\"\(f(yy))\" y2=\"\(f(yy))\" stroke=\"#e3e6ea\"/><text x=\"\(left - 6)\" y=\"\(f(yy + 4))\" text-anchor=\"end\">\(Int(tick))</text>"
        }
        // The end labels never sit on each other: the lower one moves down when they would touch.
        var labelY: [Band: Double] = [.critical: y(runs[runs.count - 1].critical) + 4, .high: y(runs[runs.count - 1].high) + 4]
        if let c = labelY[.critical], let hh = labelY[.high], abs(c - hh) < 14 {
            if c <= hh { labelY[.high] = c + 14 } else { labelY[.critical] = hh + 14 }
        }
        for (name, value) in [(Band.critical, \ReviewReport.RunSummary.critical), (.high, \ReviewReport.RunSummary.high)] {
            let color = colors[name] ?? "#888"
            let points = runs.enumerated().map { "\(f(x($0.offset))),\(f(y($0.element[keyPath: value])))" }.joined(separator: " ")
            out += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.5\"/>"
            for (i, r) in runs.enumerated() {
                out +=
                    "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(r[keyPath: value])))\" r=\"3.5\" fill=\"\(color)\"><title>\(ReviewReport.day(r.asOf)) (run \(r.id)): \(ReviewReport.n(r[keyPath: value])) \(name)</title></circle>"
            }
            let last = runs.count - 1
            out += "<text x=\"\(f(x(last) + 8))\" y=\"\(f(labelY[name] ?? 0))\" fill=\"\(color)\">\(name) \(runs[last][keyPath: value])</text>"
        }
        // One label per day, at most eight, never two on top of each other.
        var lastLabel = -Double.infinity
        for (i, r) in runs.enumerated() where x(i) - lastLabel >= 70 || i == runs.count - 1 && x(i) - lastLabel >= 40 {
            out += "<text x=\"\(f(x(i)))\" y=\"\(f(h - bottom + 16))\" text-anchor=\"middle\">\(ReviewReport.day(r.asOf))</text>"
            lastLabel = x(i)
        }
        return out + "</svg>"
    }

    static func niceTicks(_ maxV: Double) -> [Double] {
        guard maxV > 0 else { return [0] }
        let raw = maxV / 4, mag = pow(10, floor(log10(raw)))
        // Counts of credentials: whole steps only (a step of 0.5 printed ticks 0, 0, 1, 1, 2).
        let step = max(1, [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw)
        return stride(from: 0, through: maxV, by: step).map { $0 }
    }

    static func shorten(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
    static func f(_ d: Double) -> String { String(format: "%.1f", d) }
}
