import Foundation

/// Compares what agents were seen doing with what the inventory says they may do: the observed
/// edges (agent → tool, host, model, with first and last seen, count and example traces), the
/// findings outside the envelope, and — when inputs were captured — the input n-grams that
/// precede the anomalous calls far more often than the agent's other traces (trigger candidates).
public enum RuntimeFindings {
    public struct Edge: Sendable, Equatable {
        public var agent: String
        public var kind: ObservedKind
        public var target: String
        public var firstSeen: Date
        public var lastSeen: Date
        /// Traces in which the agent made this call.
        public var count: Int
        public var examples: [String]
    }

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case undeclaredHost = "undeclared-host", undeclaredTool = "undeclared-tool", shadowModel = "shadow-model"
        var observed: ObservedKind {
            switch self {
            case .undeclaredHost: .host
            case .undeclaredTool: .tool
            case .shadowModel: .model
            }
        }
        /// In words, for notes and listings.
        public var says: String {
            switch self {
            case .undeclaredHost: "called a host no resource its credentials are granted lists as an endpoint"
            case .undeclaredTool: "called a tool not among its declared tools"
            case .shadowModel: "used a model not among its uses_models"
            }
        }
    }

    public struct Finding: Sendable, Equatable {
        public var kind: Kind
        public var edge: Edge
        public var triggers: [TriggerCandidate]
    }

    /// An input n-gram over-represented in the traces with the anomalous call.
    public struct TriggerCandidate: Sendable, Equatable, Codable {
        public var ngram: String
        /// Anomalous traces whose input holds it, of those with captured input.
        public var inAnomalous: Int
        public var anomalous: Int
        /// The agent's other traces whose input holds it, of those with captured input.
        public var inNormal: Int
        public var normal: Int
    }

    public struct Result: Sendable {
        public var edges: [Edge] = []
        public var findings: [Finding] = []
        /// Agents seen in traces that the inventory does not know, with their trace counts.
        public var unknownAgents: [String: Int] = [:]
        /// The agents (inventory keys) seen at all.
        public var observedAgents: Set<String> = []
    }

    /// Trigger candidates need this many anomalous traces holding the n-gram (anomalies are few).
    public static let minimumAnomalous = 3

    public static func compare(_ traces: [OTLPTraceReader.Trace], envelopes: [RuntimeEnvelope]) -> Result {
        var r = Result()
        var byName: [String: RuntimeEnvelope] = [:]
        for e in envelopes {
            byName[e.agent] = e
            for alias in e.aliases where byName[alias] == nil { byName[alias] = e }
        }
        struct Key: Hashable { var agent: String; var kind: ObservedKind; var target: String }
        var edges: [Key: Edge] = [:]
        var tracesByAgent: [String: [(trace: OTLPTraceReader.Trace, calls: Set<Key>)]] = [:]
        for t in traces {
            guard let envelope = byName[t.agent] else { r.unknownAgents[t.agent, default: 0] += 1; continue }
            let agent = envelope.agent
            r.observedAgents.insert(agent)
            var keys: Set<Key> = []
            for call in t.calls {
                let key = Key(agent: agent, kind: call.kind, target: call.target)
                if keys.insert(key).inserted || edges[key] == nil {
                    var e = edges[key] ?? Edge(agent: agent, kind: call.kind, target: call.target, firstSeen: call.time, lastSeen: call.time, count: 0, examples: [])
                    e.firstSeen = min(e.firstSeen, call.time)
                    e.lastSeen = max(e.lastSeen, call.time)
                    if !e.examples.contains(t.id) {
                        e.count += 1
                        if e.examples.count < 3 { e.examples.append(t.id) }
                    }
                    edges[key] = e
                } else if var e = edges[key] {
                    e.firstSeen = min(e.firstSeen, call.time)
                    e.lastSeen = max(e.lastSeen, call.time)
                    edges[key] = e
                }
            }
            tracesByAgent[agent, default: []].append((t, keys))
        }
        r.edges = edges.values.sorted { ($0.agent, $0.kind.rawValue, $0.target) < ($1.agent, $1.kind.rawValue, $1.target) }
        for edge in r.edges {
            guard let envelope = byName[edge.agent] else { continue }
            let kind: Kind?
            switch edge.kind {
            case .host: kind = envelope.allows(host: edge.target) ? nil : .undeclaredHost
            case .tool: kind = envelope.allows(tool: edge.target) ? nil : .undeclaredTool
            case .model: kind = envelope.allows(model: edge.target) ? nil : .shadowModel
            }
            guard let kind else { continue }
            r.findings.append(Finding(kind: kind, edge: edge, triggers: []))
        }
        // Trigger candidates: the agent's traces with the anomalous call against its traces with none.
        for i in r.findings.indices {
            let f = r.findings[i]
            let agentTraces = tracesByAgent[f.edge.agent] ?? []
            let anomalousKeys = Set(r.findings.filter { $0.edge.agent == f.edge.agent }.map { Key(agent: $0.edge.agent, kind: $0.edge.kind, target: $0.edge.target) })
            let key = Key(agent: f.edge.agent, kind: f.edge.kind, target: f.edge.target)
            let anomalous = agentTraces.filter { $0.calls.contains(key) && !$0.trace.input.isEmpty }.map(\.trace.input)
            let normal = agentTraces.filter { $0.calls.isDisjoint(with: anomalousKeys) && !$0.trace.input.isEmpty }.map(\.trace.input)
            r.findings[i].triggers = triggers(anomalous: anomalous, normal: normal)
        }
        return r
    }

    /// Input n-grams (1 to 3 tokens) in most anomalous inputs and almost no normal ones, ranked by
    /// how well they separate the two; n-grams inside a better one are left out.
    static func triggers(anomalous: [String], normal: [String]) -> [TriggerCandidate] {
        guard anomalous.count >= minimumAnomalous else { return [] }
        func ngrams(_ text: String) -> [String: String] {
            let tokens = TextTokens.texts(text)
            var out: [String: String] = [:]
            let hashes = tokens.map(\.hash)
            hashes.withUnsafeBufferPointer { t in
                TextTokens.forEachNGram(t, upTo: 3) { g, start, n in
                    out[String(g, radix: 16)] = tokens[start..<(start + n)].map(\.text).joined(separator: " ")
                }
            }
            return out
        }
        var inAnomalous: [String: Int] = [:], text: [String: String] = [:]
        for input in anomalous { for (g, t) in ngrams(input) { inAnomalous[g, default: 0] += 1; text[g] = t } }
        let common = inAnomalous.filter { $0.value >= minimumAnomalous && Double($0.value) >= 0.8 * Double(anomalous.count) }
        guard !common.isEmpty else { return [] }
        var inNormal: [String: Int] = [:]
        for input in normal { for (g, _) in ngrams(input) where common[g] != nil { inNormal[g, default: 0] += 1 } }
        let n = max(normal.count, 1)
        var found = common.compactMap { g, a -> TriggerCandidate? in
            let b = inNormal[g] ?? 0
            // Rare among normal traces: at most 1 % of them (one, when there are few).
            guard Double(b) <= max(1, 0.01 * Double(n)) else { return nil }
            return TriggerCandidate(ngram: text[g] ?? "?", inAnomalous: a, anomalous: anomalous.count, inNormal: b, normal: normal.count)
        }
        found.sort { a, b in
            let sa = Double(a.inAnomalous) / Double(a.anomalous) - Double(a.inNormal) / Double(n)
            let sb = Double(b.inAnomalous) / Double(b.anomalous) - Double(b.inNormal) / Double(n)
            return (sa, a.ngram.count, b.ngram) > (sb, b.ngram.count, a.ngram)
        }
        // Overlapping n-grams are one phrase seen through its neighbours: the group is named by the
        // span they cover in the first anomalous input, trimmed of words the agent's other traces
        // use (`per aspera mode` out of `aspera mode thank` and `per aspera mode`).
        var normalWords: [String: Int] = [:]
        for input in normal { for w in Set(TextTokens.texts(input).map(\.text)) { normalWords[w, default: 0] += 1 } }
        let firstTokens = anomalous.map { TextTokens.texts($0).map(\.text) }
        func occurrences(_ ngram: String, in tokens: [String]) -> [Range<Int>] {
            let parts = ngram.split(separator: " ").map(String.init)
            guard !parts.isEmpty, parts.count <= tokens.count else { return [] }
            return (0...(tokens.count - parts.count)).filter { Array(tokens[$0..<($0 + parts.count)]) == parts }.map { $0..<($0 + parts.count) }
        }
        var kept: [TriggerCandidate] = []
        var used: Set<String> = []
        for c in found where !used.contains(c.ngram) {
            guard let tokens = firstTokens.first(where: { !occurrences(c.ngram, in: $0).isEmpty }), var span = occurrences(c.ngram, in: tokens).first else { continue }
            var grew = true
            while grew {
                grew = false
                for other in found where !used.contains(other.ngram) {
                    for r in occurrences(other.ngram, in: tokens) where r.overlaps(span) && !(span.contains(r.lowerBound) && span.contains(r.upperBound - 1)) {
                        span = min(span.lowerBound, r.lowerBound)..<max(span.upperBound, r.upperBound)
                        grew = true
                    }
                }
            }
            for other in found where occurrences(other.ngram, in: tokens).contains(where: { span.contains($0.lowerBound) && span.contains($0.upperBound - 1) }) {
                used.insert(other.ngram)
            }
            used.insert(c.ngram)
            var lo = span.lowerBound, hi = span.upperBound
            func common(_ w: String) -> Bool { Double(normalWords[w] ?? 0) > max(1, 0.01 * Double(n)) }
            while hi - lo > 1, common(tokens[lo]) { lo += 1 }
            while hi - lo > 1, common(tokens[hi - 1]) { hi -= 1 }
            var named = c
            let inside = tokens[lo..<hi].joined(separator: " ")
            named.ngram = TriggerMiner.visible(inside)
            named.inAnomalous = anomalous.filter { a in !occurrences(inside, in: TextTokens.texts(a).map(\.text)).isEmpty }.count
            named.inNormal = normal.filter { a in !occurrences(inside, in: TextTokens.texts(a).map(\.text)).isEmpty }.count
            if !kept.contains(where: { $0.ngram == named.ngram }) { kept.append(named) }
            if kept.count == 5 { break }
        }
        return kept
    }
}
