import Foundation

/// The top exposures' attack paths as one graph: models, then the agents their output reaches,
/// then the credentials those agents hold, then the resources the credentials are granted —
/// each node once, each edge in the colour of the riskiest credential whose path it carries.
enum AttackPathGraph {
    struct Node: Hashable { var column: Int; var name: String }

    /// Where the credential sits in its path `[model, agents…, credential, resource?]`: last or
    /// next to last, after a model and at least one agent. Nil for a path no model starts (a
    /// credential no model reaches has none to draw) — or one whose key an agent shares.
    static func credentialIndex(_ e: Exposure) -> Int? {
        let p = e.path
        for c in [p.count - 1, p.count - 2] where c >= 2 && p[c] == e.credential { return c }
        return nil
    }

    static func svg(_ report: ReviewReport, credentials: Int = 10) -> String? {
        let paths = report.top.prefix(credentials).filter { credentialIndex($0) != nil }
        guard !paths.isEmpty else { return nil }
        // Columns: 0 models, 1 agents (a delegation chain stays in the column), 2 credentials, 3 resources.
        var columns: [[String]] = [[], [], [], []]
        var edges: [(from: Node, to: Node, band: Band, score: Int)] = []
        func add(_ node: Node) { if !columns[node.column].contains(node.name) { columns[node.column].append(node.name) } }
        for e in paths {
            guard let c = credentialIndex(e) else { continue }
            var chain = [Node(column: 0, name: e.path[0])]
            chain += e.path[1..<c].map { Node(column: 1, name: $0) }
            chain.append(Node(column: 2, name: e.credential))
            if c + 1 < e.path.count { chain.append(Node(column: 3, name: e.path[c + 1])) }
            chain.forEach(add)
            for (a, b) in zip(chain, chain.dropFirst()) where !edges.contains(where: { $0.from == a && $0.to == b }) {
                edges.append((a, b, e.band, e.score))
            }
        }
        let rowHeight = 30.0, top = 44.0, width = 1000.0, boxWidth = 200.0
        let xs = [20.0, 270.0, 520.0, 770.0]
        let rows = columns.map(\.count).max() ?? 1
        let height = top + Double(rows) * rowHeight + 12
        func y(_ n: Node) -> Double { top + Double(columns[n.column].firstIndex(of: n.name) ?? 0) * rowHeight + 11 }
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"Top attack paths\">"
        out += "<text x=\"20\" y=\"14\" font-weight=\"600\">Top attack paths: model → agents → credential → resource (the \(paths.count) riskiest credentials)</text>"
        for (i, title) in ["models", "agents", "credentials", "resources"].enumerated() {
            out += "<text x=\"\(ReportCharts.f(xs[i]))\" y=\"34\" fill=\"#5f6368\">\(title)</text>"
        }
        // Edges under the nodes, the riskiest last (on top).
        for e in edges.sorted(by: { $0.score < $1.score }) {
            let color = ReportCharts.colors[e.band] ?? "#888"
            let sameColumn = e.from.column == e.to.column
            let x1 = xs[e.from.column] + (sameColumn ? boxWidth - 8 : boxWidth), x2 = xs[e.to.column] + (sameColumn ? boxWidth - 8 : 0)
            let (y1, y2) = (y(e.from), y(e.to))
            let bend = sameColumn ? x1 + 40 : (x1 + x2) / 2
            out +=
                "<path d=\"M\(ReportCharts.f(x1)),\(ReportCharts.f(y1)) C\(ReportCharts.f(bend)),\(ReportCharts.f(y1)) \(ReportCharts.f(sameColumn ? bend : bend)),\(ReportCharts.f(y2)) \(ReportCharts.f(x2)),\(ReportCharts.f(y2))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" opacity=\"0.8\"/>"
        }
        for (column, names) in columns.enumerated() {
            for name in names {
                let node = Node(column: column, name: name)
                let score = column == 2 ? paths.first { $0.credential == name }.map { " \($0.score)" } ?? "" : ""
                out += "<rect x=\"\(ReportCharts.f(xs[column]))\" y=\"\(ReportCharts.f(y(node) - 11))\" width=\"\(Int(boxWidth))\" height=\"22\" rx=\"4\" fill=\"#f4f6f8\" stroke=\"#c8ccd2\"/>"
                out +=
                    "<text x=\"\(ReportCharts.f(xs[column] + 6))\" y=\"\(ReportCharts.f(y(node) + 4))\"><title>\(ReportHTML.esc(name))</title>\(ReportHTML.esc(ReportCharts.shorten(name, 26) + score))</text>"
            }
        }
        return out + "</svg>"
    }
}
