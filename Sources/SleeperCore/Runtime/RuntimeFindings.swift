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
        /// A call the agent never made before, after it had been observed for the baseline: within
        /// the envelope, so listed for review without failing the runtime check.
        case newAfterBaseline = "new-after-baseline"
        /// Whether the finding is outside the envelope (and fails SLP-RUNTIME-MONITOR while open).
        public var outsideEnvelope: Bool { self != .newAfterBaseline }
        /// In words, for notes and listings.
        public var says: String {
            switch self {
            case .undeclaredHost: "called a host no resource its credentials are granted lists as an endpoint"
            case .undeclaredTool: "called a tool not among its declared tools"
            case .shadowModel: "used a model not among its uses_models"
            case .newAfterBaseline: "made a call it had never made in its observed baseline"
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
        public init() {}
        public var edges: [Edge] = []
        public var findings: [Finding] = []
        /// Agents seen in traces that the inventory does not know, with their trace counts.
        public var unknownAgents: [String: Int] = [:]
        /// The agents (inventory keys) seen at all.
        public var observedAgents: Set<String> = []
        /// Findings past `maximumFindingsPerAgent` of one agent and kind, counted and not recorded
        /// one by one (`agent kind` → how many).
        public var unlisted: [String: Int] = [:]
    }

    /// Findings recorded one by one per agent and kind: an agent that browses the web reaches
    /// hosts by the hundred thousand, and each would be a row, a list entry and a trigger search.
    /// The ones seen in the most traces are kept; the rest are counted.
    public static let maximumFindingsPerAgent = 1000

    /// Trigger candidates need this many anomalous traces holding the n-gram (anomalies are few).
    public static let minimumAnomalous = 3

    /// What Sleeper already observed of the agents, for new behaviour after a quiet baseline: the
    /// calls seen before, and when each agent was first seen.
    public struct History: Sendable {
        public var seen: Set<String>
        public var firstSeen: [String: Date]
        public var baselineDays: Int
        public init(seen: Set<String> = [], firstSeen: [String: Date] = [:], baselineDays: Int = 14) {
            (self.seen, self.firstSeen, self.baselineDays) = (seen, firstSeen, baselineDays)
        }
        /// `agent kind target`, how `seen` names a call.
        public static func key(_ agent: String, _ kind: ObservedKind, _ target: String) -> String { "\(agent) \(kind.rawValue) \(target)" }
    }

    public static func compare(_ traces: [OTLPTraceReader.Trace], envelopes: [RuntimeEnvelope], history: History = History()) -> Result {
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
            // Only traces with captured input are kept for trigger mining, with their calls as a set.
            let single = t.calls.count == 1, mined = !t.input.isEmpty
            var keys: Set<Key> = []
            for call in t.calls {
                let key = Key(agent: agent, kind: call.kind, target: call.target)
                let firstInTrace = single || keys.insert(key).inserted
                if single && mined { keys.insert(key) }
                // One lookup per call: the edge is changed where it is stored.
                let fresh = Edge(agent: agent, kind: call.kind, target: call.target, firstSeen: call.time, lastSeen: call.time, count: 0, examples: [])
                Self.observe(&edges[key, default: fresh], trace: t.id, at: call.time, firstInTrace: firstInTrace)
            }
            if mined { tracesByAgent[agent, default: []].append((t, keys)) }
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
            if let kind {
                r.findings.append(Finding(kind: kind, edge: edge, triggers: []))
            } else if let first = history.firstSeen[edge.agent], !history.seen.contains(History.key(edge.agent, edge.kind, edge.target)),
                edge.firstSeen.timeIntervalSince(first) >= Double(history.baselineDays) * 86400
            {
                r.findings.append(Finding(kind: .newAfterBaseline, edge: edge, triggers: []))
            }
        }
        var perAgent: [String: [Finding]] = [:]
        for f in r.findings { perAgent["\(f.edge.agent) \(f.kind.rawValue)", default: []].append(f) }
        if perAgent.values.contains(where: { $0.count > maximumFindingsPerAgent }) {
            r.findings = []
            for (group, list) in perAgent.sorted(by: { $0.key < $1.key }) {
                guard list.count > maximumFindingsPerAgent else { r.findings += list; continue }
                let kept = list.sorted { ($1.edge.count, $0.edge.target) < ($0.edge.count, $1.edge.target) }.prefix(maximumFindingsPerAgent)
                r.findings += kept
                r.unlisted[group] = list.count - kept.count
            }
            r.findings.sort { ($0.edge.agent, $0.edge.kind.rawValue, $0.edge.target) < ($1.edge.agent, $1.edge.kind.rawValue, $1.edge.target) }
        }
        // Trigger candidates: the agent's traces with the anomalous call against its traces with
        // none. Each agent's anomalous calls, the traces holding each call and the normal traces
        // are found once, in one pass: done again for every finding, an agent calling 10,000
        // distinct hosts took 75 s, and 100,000 never finished.
        var outside: [String: Set<Key>] = [:], found: [String: Set<Key>] = [:]
        for f in r.findings {
            let key = Key(agent: f.edge.agent, kind: f.edge.kind, target: f.edge.target)
            found[f.edge.agent, default: []].insert(key)
            if f.kind.outsideEnvelope { outside[f.edge.agent, default: []].insert(key) }
        }
        var withCall: [Key: [String]] = [:]
        var normal: [String: [String]] = [:]
        for (agent, agentTraces) in tracesByAgent {
            let anomalous = outside[agent] ?? [], watched = found[agent] ?? []
            for t in agentTraces where !t.trace.input.isEmpty {
                if t.calls.isDisjoint(with: anomalous) { normal[agent, default: []].append(t.trace.input) }
                for key in t.calls where watched.contains(key) { withCall[key, default: []].append(t.trace.input) }
            }
        }
        for i in r.findings.indices {
            let f = r.findings[i]
            let anomalous = withCall[Key(agent: f.edge.agent, kind: f.edge.kind, target: f.edge.target)] ?? []
            guard anomalous.count >= minimumAnomalous else { continue }
            r.findings[i].triggers = triggers(anomalous: anomalous, normal: normal[f.edge.agent] ?? [])
        }
        return r
    }

    static func observe(_ e: inout Edge, trace: String, at time: Date, firstInTrace: Bool) {
        e.firstSeen = min(e.firstSeen, time)
        e.lastSeen = max(e.lastSeen, time)
        if firstInTrace, !e.examples.contains(trace) {
            e.count += 1
            if e.examples.count < 3 { e.examples.append(trace) }
        }
    }

    /// Input n-grams (1 to 3 tokens) in most anomalous inputs and almost no normal ones, ranked by
    /// how well they separate the two. The normal traces (most of them) are read as hashes only.
    static func triggers(anomalous: [String], normal: [String]) -> [TriggerCandidate] {
        guard anomalous.count >= minimumAnomalous else { return [] }
        let anomalousTokens = anomalous.map { TextTokens.texts($0) }
        // In how many anomalous inputs each n-gram is, with its text.
        var inAnomalous: [UInt64: Int] = [:], text: [UInt64: String] = [:]
        for tokens in anomalousTokens {
            var seen: Set<UInt64> = []
            tokens.map(\.hash).withUnsafeBufferPointer { t in
                TextTokens.forEachNGram(t, upTo: 3) { g, start, n in
                    guard seen.insert(g).inserted else { return }
                    inAnomalous[g, default: 0] += 1
                    if text[g] == nil { text[g] = tokens[start..<(start + n)].map(\.text).joined(separator: " ") }
                }
            }
        }
        let common = inAnomalous.filter { $0.value >= minimumAnomalous && Double($0.value) >= 0.8 * Double(anomalous.count) }
        guard !common.isEmpty else { return [] }
        // How many normal inputs hold each common n-gram, and each word of the anomalous inputs
        // (to trim everyday words off a phrase's ends).
        var words: Set<UInt64> = []
        for tokens in anomalousTokens { for t in tokens { words.insert(TextTokens.unigram(t.hash)) } }
        let watched = Set(common.keys).union(words)
        let inNormal = counts(of: watched, in: normal, upTo: 3)
        let n = max(normal.count, 1)
        let rare = max(1, 0.01 * Double(n))
        var found = common.compactMap { g, a -> (UInt64, Int, Int)? in
            let b = inNormal[g] ?? 0
            return Double(b) <= rare ? (g, a, b) : nil
        }
        found.sort { x, y in
            let sx = Double(x.1) / Double(anomalous.count) - Double(x.2) / Double(n), sy = Double(y.1) / Double(anomalous.count) - Double(y.2) / Double(n)
            let tx = text[x.0] ?? "", ty = text[y.0] ?? ""
            return (sx, tx.count, ty) > (sy, ty.count, tx)
        }
        // Overlapping n-grams are one phrase seen through its neighbours: the group is named by the
        // span they cover in the first anomalous input holding the best of them, trimmed of words
        // the agent's other traces use (`per aspera mode` out of `aspera mode thank` and `per aspera mode`).
        func occurrences(_ g: UInt64, in tokens: [(hash: UInt64, text: String)]) -> [Range<Int>] {
            var out: [Range<Int>] = []
            tokens.map(\.hash).withUnsafeBufferPointer { t in
                TextTokens.forEachNGram(t, upTo: 3) { h, start, len in if h == g { out.append(start..<(start + len)) } }
            }
            return out
        }
        var used: Set<UInt64> = []
        var phrases: [(tokens: [(hash: UInt64, text: String)], span: Range<Int>)] = []
        for c in found where !used.contains(c.0) {
            guard let tokens = anomalousTokens.first(where: { !occurrences(c.0, in: $0).isEmpty }), var span = occurrences(c.0, in: tokens).first else { continue }
            var grew = true
            while grew {
                grew = false
                for other in found where !used.contains(other.0) {
                    for r in occurrences(other.0, in: tokens) where r.overlaps(span) && (r.lowerBound < span.lowerBound || r.upperBound > span.upperBound) {
                        span = min(span.lowerBound, r.lowerBound)..<max(span.upperBound, r.upperBound)
                        grew = true
                    }
                }
            }
            for other in found where occurrences(other.0, in: tokens).contains(where: { $0.lowerBound >= span.lowerBound && $0.upperBound <= span.upperBound }) {
                used.insert(other.0)
            }
            used.insert(c.0)
            var lo = span.lowerBound, hi = span.upperBound
            func everyday(_ i: Int) -> Bool { Double(inNormal[TextTokens.unigram(tokens[i].hash)] ?? 0) > rare }
            while hi - lo > 1, everyday(lo) { lo += 1 }
            while hi - lo > 1, everyday(hi - 1) { hi -= 1 }
            if !phrases.contains(where: { $0.tokens[$0.span].map(\.text) == tokens[lo..<hi].map(\.text) }) { phrases.append((tokens, lo..<hi)) }
            if phrases.count == 5 { break }
        }
        // Each phrase counted again as a whole, in both sets.
        let phraseHashes = phrases.map { p in p.tokens[p.span].map(\.hash).withUnsafeBufferPointer { TextTokens.ngram($0, 0, $0.count) } }
        let longest = phrases.map(\.span.count).max() ?? 1
        let normalCounts = counts(of: Set(phraseHashes), in: normal, upTo: longest)
        let anomalousCounts = counts(of: Set(phraseHashes), in: anomalous, upTo: longest)
        return zip(phrases, phraseHashes).map { p, h in
            TriggerCandidate(
                ngram: TextTokens.visible(p.tokens[p.span].map(\.text).joined(separator: " ")), inAnomalous: anomalousCounts[h] ?? 0,
                anomalous: anomalous.count, inNormal: normalCounts[h] ?? 0, normal: normal.count)
        }
    }

    /// In how many of `inputs` each watched n-gram (up to `longest` tokens) appears; hashes only.
    static func counts(of watched: Set<UInt64>, in inputs: [String], upTo longest: Int) -> [UInt64: Int] {
        var out: [UInt64: Int] = [:]
        var seen: Set<UInt64> = []
        for input in inputs {
            seen.removeAll(keepingCapacity: true)
            TextTokens.hashes(input).withUnsafeBufferPointer { t in
                TextTokens.forEachNGram(t, upTo: longest) { g, _, _ in
                    if watched.contains(g), seen.insert(g).inserted { out[g, default: 0] += 1 }
                }
            }
        }
        return out
    }
}
