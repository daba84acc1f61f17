import Foundation

/// What `sleeper findings` and `sleeper observe import` print.
public enum FindingListing {
    public static func findings(_ findings: [RecordedFinding]) -> Listing {
        Listing(
            columns: ["id", "agent", "kind", "target", "count", "first_seen", "last_seen", "status", "example_traces", "trigger_candidates", "reason"],
            rows: findings.map { f in
                [
                    .integer(f.id), .text(f.agent), .text(f.kind), .text(f.target), .integer(f.count), .text(Timestamps.format(f.firstSeen)),
                    .text(Timestamps.format(f.lastSeen)), .text(f.status.rawValue), .list(f.examples),
                    .list(f.triggers.map { "\"\($0.ngram)\" (\($0.inAnomalous)/\($0.anomalous) vs \($0.inNormal)/\($0.normal))" }),
                    f.reason.map(Listing.Cell.text) ?? .null,
                ]
            })
    }

    /// The agents not in the inventory that an answer names: those with the most traces, at most
    /// `size`, in one pass (no sort of them all).
    public static func unknownSample(_ agents: [String: Int], size: Int = 20) -> [(name: String, traces: Int)] {
        var top: [(name: String, traces: Int)] = []
        for (name, traces) in agents {
            if top.count == size, let last = top.last, (last.traces, name) >= (traces, last.name) { continue }
            let at = top.firstIndex { ($0.traces, name) < (traces, $0.name) } ?? top.count
            top.insert((name, traces), at: at)
            if top.count > size { top.removeLast() }
        }
        return top
    }

    /// One import in a few lines: spans read, skipped by kind, unknown agents, edges, findings.
    public static func imported(
        spans: Int, traces: Int, skipped: [String: Int], firstSkipped: [String], unknownAgents: [String: Int],
        unlisted: [String: Int] = [:], edges: Int, findings: [RecordedFinding]
    ) -> String {
        var lines = ["read \(spans) span(s) in \(traces) agent trace(s); \(edges) distinct call(s) observed"]
        if !skipped.isEmpty {
            lines.append("skipped: " + skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            lines += firstSkipped.map { "  \($0)" }
        }
        if !unknownAgents.isEmpty {
            let sample = unknownSample(unknownAgents, size: 10)
            lines.append(
                "\(unknownAgents.count) agent(s) not in the inventory (\(unknownAgents.values.reduce(0, +)) trace(s) left out)"
                    + (sample.count < unknownAgents.count ? ", the \(sample.count) with the most traces: " : ": ")
                    + sample.map { "\($0.name) (\($0.traces))" }.joined(separator: ", "))
        }
        for (group, count) in unlisted.sorted(by: { $0.key < $1.key }) {
            lines.append("\(count) more \(group) finding(s) past the first \(RuntimeFindings.maximumFindingsPerAgent), counted and not recorded one by one")
        }
        let open = findings.filter { $0.status == .open }
        lines.append("\(findings.filter(\.new).count) new finding(s), \(open.count) open among those seen")
        for f in findings {
            lines.append(
                "  #\(f.id) \(f.agent) \(f.kind) \(f.target): \(f.count) trace(s) since \(Timestamps.format(f.firstSeen)), e.g. \(f.examples.first ?? "?") [\(f.status.rawValue)\(f.new ? ", new" : "")]"
            )
            for t in f.triggers { lines.append("     trigger candidate \"\(t.ngram)\": in \(t.inAnomalous) of \(t.anomalous) anomalous traces, \(t.inNormal) of \(t.normal) others") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
