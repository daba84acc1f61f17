import Foundation

/// What `sleeper findings` and `sleeper observe import` print.
public enum FindingListing {
    public static func findings(_ findings: [RecordedFinding]) -> Listing {
        Listing(columns: ["id", "agent", "kind", "target", "count", "first_seen", "last_seen", "status", "example_traces", "trigger_candidates", "reason"],
                rows: findings.map { f in
            [.integer(f.id), .text(f.agent), .text(f.kind), .text(f.target), .integer(f.count), .text(Timestamps.format(f.firstSeen)),
             .text(Timestamps.format(f.lastSeen)), .text(f.status.rawValue), .list(f.examples),
             .list(f.triggers.map { "\"\($0.ngram)\" (\($0.inAnomalous)/\($0.anomalous) vs \($0.inNormal)/\($0.normal))" }),
             f.reason.map(Listing.Cell.text) ?? .null]
        })
    }

    /// One import in a few lines: spans read, skipped by kind, unknown agents, edges, findings.
    public static func imported(spans: Int, traces: Int, skipped: [String: Int], firstSkipped: [String], unknownAgents: [String: Int],
                                edges: Int, findings: [RecordedFinding]) -> String {
        var lines = ["read \(spans) span(s) in \(traces) agent trace(s); \(edges) distinct call(s) observed"]
        if !skipped.isEmpty {
            lines.append("skipped: " + skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
            lines += firstSkipped.map { "  \($0)" }
        }
        if !unknownAgents.isEmpty {
            lines.append("agents not in the inventory (traces left out): " + unknownAgents.sorted { $0.key < $1.key }.prefix(10).map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        }
        let open = findings.filter { $0.status == .open }
        lines.append("\(findings.filter(\.new).count) new finding(s), \(open.count) open among those seen")
        for f in findings {
            lines.append("  #\(f.id) \(f.agent) \(f.kind) \(f.target): \(f.count) trace(s) since \(Timestamps.format(f.firstSeen)), e.g. \(f.examples.first ?? "?") [\(f.status.rawValue)\(f.new ? ", new" : "")]")
            for t in f.triggers { lines.append("     trigger candidate \"\(t.ngram)\": in \(t.inAnomalous) of \(t.anomalous) anomalous traces, \(t.inNormal) of \(t.normal) others") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
